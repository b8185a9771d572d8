import type { EventBus } from '../../lib/events.ts';
import type { NetworkController } from '../../network/controller.ts';
import type { NetworkRecord } from '../../network/types.ts';
import type { ContainerDeps } from '../containers/deps.ts';

export type { NetworkCreateRequest } from '../../network/controller.ts';

/** What the network services need: the controller, the containers (for connect), events. */
export interface NetworkServiceDeps {
  network: NetworkController;
  containers: ContainerDeps;
  events: EventBus;
}

export function publishNetworkEvent(deps: NetworkServiceDeps, action: string, net: NetworkRecord, extra: Record<string, string> = {}): void {
  deps.events.publish('network', action, net.id, { name: net.name, type: net.driver, ...extra });
}
