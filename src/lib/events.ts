import { EventEmitter } from 'node:events';
import type { EventMessage } from '../types/docker.ts';

/**
 * In-process event bus with a bounded history, so `/events?since=` can replay recent events
 * (dockerd keeps the last 256 in memory as well).
 */
export class EventBus {
  private readonly history: EventMessage[] = [];
  private readonly emitter = new EventEmitter();
  private readonly capacity: number;

  constructor(capacity = 1024) {
    this.capacity = capacity;
    this.emitter.setMaxListeners(0);
  }

  publish(type: EventMessage['Type'], action: string, actorId: string, attributes: Record<string, string> = {}): EventMessage {
    const nowNs = BigInt(Date.now()) * 1_000_000n + process.hrtime.bigint() % 1_000_000n;
    const time = Number(nowNs / 1_000_000_000n);
    const ev: EventMessage = { Type: type, Action: action, Actor: { ID: actorId, Attributes: attributes }, scope: 'local', time, timeNano: Number(nowNs) };
    if (type === 'container' || type === 'image') {
      // The legacy fields docker still sends for container and image events.
      ev.status = action;
      ev.id = actorId;
      if (type === 'container' && attributes.image) ev.from = attributes.image;
    }
    this.history.push(ev);
    if (this.history.length > this.capacity) this.history.shift();
    this.emitter.emit('event', ev);
    return ev;
  }

  /** Events already recorded, oldest first. */
  recent(): readonly EventMessage[] {
    return this.history;
  }

  subscribe(listener: (ev: EventMessage) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
