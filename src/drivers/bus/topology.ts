/**
 * Declare flags of exchanges and queues, as oslo.messaging's rabbit driver chooses them
 * (docs/interop.md#oslo-messaging-topology,
 * docs/interop.md#rpc-casts). Both sides of a broker must agree: redeclaring with different
 * flags fails the channel with 406 PRECONDITION_FAILED.
 */
import type { Channel, Options } from 'amqplib';
import type { BusOptions } from './options.js';

export type TopologyOptions = Pick<
  BusOptions,
  'amqp_durable_queues' | 'amqp_auto_delete' | 'rabbit_quorum_queue' | 'rabbit_ha_queues' | 'rabbit_transient_queues_ttl'
> &
  Partial<Pick<BusOptions, 'rabbit_quorum_delivery_limit' | 'rabbit_quroum_max_memory_length' | 'rabbit_quroum_max_memory_bytes'>>;

export interface ExchangeSpec {
  name: string;
  type: 'topic' | 'fanout' | 'direct';
  options: Options.AssertExchange;
}

export interface QueueSpec {
  name: string;
  options: Options.AssertQueue;
}

/** Exchanges and topic queues are durable with `amqp_durable_queues` or quorum queues. */
export function isDurable(o: TopologyOptions): boolean {
  return o.amqp_durable_queues || o.rabbit_quorum_queue;
}

/**
 * Queue arguments (`_get_queue_arguments`): `x-ha-policy`, `x-queue-type: quorum` (+ its limits)
 * and, for transient queues, `x-expires`.
 */
export function queueArguments(o: TopologyOptions, opts: { transient?: boolean; quorum?: boolean } = {}): Record<string, unknown> {
  const quorum = opts.quorum ?? o.rabbit_quorum_queue;
  if (quorum && o.rabbit_ha_queues) {
    throw new Error(
      'Configuration Error: rabbit_quorum_queue and rabbit_ha_queues both enabled, queue type is quorum or HA (mirrored) not both',
    );
  }
  const args: Record<string, unknown> = {};
  if (o.rabbit_ha_queues) args['x-ha-policy'] = 'all';
  if (quorum) {
    args['x-queue-type'] = 'quorum';
    if (o.rabbit_quorum_delivery_limit) args['x-delivery-limit'] = o.rabbit_quorum_delivery_limit;
    if (o.rabbit_quroum_max_memory_length) args['x-max-in-memory-length'] = o.rabbit_quroum_max_memory_length;
    if (o.rabbit_quroum_max_memory_bytes) args['x-max-in-memory-bytes'] = o.rabbit_quroum_max_memory_bytes;
  }
  if (opts.transient && o.rabbit_transient_queues_ttl > 0) args['x-expires'] = o.rabbit_transient_queues_ttl * 1000;
  return args;
}

/** A topic exchange (notifications, RPC): e.g. `warre`, `ceilometer`. */
export function topicExchange(name: string, o: TopologyOptions): ExchangeSpec {
  return { name, type: 'topic', options: { durable: isDurable(o), autoDelete: o.amqp_auto_delete, internal: false, arguments: {} } };
}

/**
 * A queue named after its routing key on a topic exchange: notification queues
 * (`<topic>.<priority>`, declared by publishers and listeners alike — the publisher never
 * adds `x-expires`) and RPC server queues (`warre-worker`, `warre-worker.<host>`).
 */
export function topicQueue(name: string, o: TopologyOptions): QueueSpec {
  return {
    name,
    options: { durable: isDurable(o), autoDelete: o.amqp_auto_delete, exclusive: false, arguments: queueArguments(o) },
  };
}

/** The RPC fanout exchange `<topic>_fanout`: never durable, auto-delete. */
export function fanoutExchange(topic: string): ExchangeSpec {
  return { name: `${topic}_fanout`, type: 'fanout', options: { durable: false, autoDelete: true, internal: false, arguments: {} } };
}

/** The RPC fanout queue `<topic>_fanout_<uuid hex>`: transient, expires after `rabbit_transient_queues_ttl`. */
export function fanoutQueue(name: string, o: TopologyOptions): QueueSpec {
  return {
    name,
    options: { durable: false, autoDelete: false, exclusive: false, arguments: queueArguments(o, { transient: true, quorum: false }) },
  };
}

/** Declare an exchange, a queue and the binding between them (routing key defaults to the queue name). */
export async function declareBinding(ch: Channel, exchange: ExchangeSpec, queue: QueueSpec, routingKey = queue.name): Promise<void> {
  await ch.assertExchange(exchange.name, exchange.type, exchange.options);
  await ch.assertQueue(queue.name, queue.options);
  await ch.bindQueue(queue.name, exchange.name, routingKey);
}
