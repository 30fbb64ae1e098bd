/** Warre's message bus: oslo.messaging-compatible notifications and RPC casts over RabbitMQ. */
export * from './options.js';
export * from './transport-url.js';
export * from './envelope.js';
export * from './topology.js';
export * from './connection.js';
export * from './publisher.js';
export * from './notifier.js';
export * from './listener.js';
export * from './rpc.js';
