import { InvalidParameter } from '../../lib/errors.ts';
import { eventAttributes, type ContainerDeps } from './deps.ts';
import { validateName } from './validate.ts';

/** POST /containers/{id}/rename?name= */
export function renameContainer(deps: ContainerDeps, ref: string, newName: string): void {
  if (!newName) throw new InvalidParameter('Neither old nor new names may be empty');
  validateName(newName);
  const name = newName.replace(/^\//, '');
  const rec = deps.repo.find(ref);
  const oldName = rec.name;
  if (oldName === name) throw new InvalidParameter('Renaming a container with the same name as its current name');
  deps.repo.rename(rec, name);
  deps.events.publish('container', 'rename', rec.id, eventAttributes(rec, { oldName: `/${oldName}` }));
}
