// Shared by `inspect`, `container inspect` and `image inspect`: look each name up (containers
// first, then images, like docker), print a JSON array indented by 4 or one template line each.
import { isKind } from '../../../lib/errors.ts';
import { ExitStatus, describeError, type CliContext } from '../../context.ts';
import { compileTemplate, unescapeFormat } from '../../format/template.ts';

export type ObjectType = 'container' | 'image' | 'volume';

export interface InspectOptions {
  names: string[];
  types: ObjectType[];
  format?: string;
  size?: boolean;
}

export async function inspectObjects(ctx: CliContext, options: InspectOptions): Promise<void> {
  const client = ctx.client();
  const found: unknown[] = [];
  const errors: string[] = [];
  for (const name of options.names) {
    let object: unknown;
    for (const type of options.types) {
      try {
        object = type === 'container' ? await client.containers.inspect(name, { size: options.size }) : type === 'volume' ? await client.volumes.inspect(name) : await client.images.inspect(name);
        break;
      } catch (err) {
        if (!isKind(err, 'NotFound')) {
          errors.push(await describeError(err));
          object = null;
          break;
        }
      }
    }
    if (object === undefined) {
      const what = options.types.length === 1 ? options.types[0] : 'object';
      errors.push(`Error: No such ${what}: ${name}`);
    } else if (object !== null) found.push(object);
  }
  printInspected(ctx, found, errors, options.format);
}

/** docker's inspect output: a JSON array indented by 4 or one template line each, then the errors (exit 1). */
export function printInspected(ctx: CliContext, found: unknown[], errors: string[], format?: string): void {
  if (format) {
    const template = compileTemplate(unescapeFormat(format === 'json' ? '{{json .}}' : format));
    for (const obj of found) ctx.out(template.execute(obj) + '\n');
  } else {
    ctx.out(JSON.stringify(found, null, 4) + '\n');
  }
  for (const e of errors) ctx.err(`${e}\n`);
  if (errors.length) throw new ExitStatus(1);
}
