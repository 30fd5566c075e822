// Broker counters and gauges (issue 3 "Metrics"), registered once per registry.
import type { MetricsRegistry } from '../observe/metrics.js';

export function brokerMetrics(registry: MetricsRegistry) {
  return {
    clientsConnected: registry.gauge('fieldgate_broker_clients_connected', 'MQTT clients currently connected to the local broker'),
    connects: registry.counter('fieldgate_broker_connects_total', 'CONNECT packets received'),
    disconnects: registry.counter('fieldgate_broker_disconnects_total', 'client connections closed after CONNACK'),
    messagesIn: registry.counter('fieldgate_broker_messages_in_total', 'PUBLISH packets received from clients'),
    messagesOut: registry.counter('fieldgate_broker_messages_out_total', 'PUBLISH packets sent to clients'),
    bytesIn: registry.counter('fieldgate_broker_bytes_in_total', 'bytes received from clients'),
    bytesOut: registry.counter('fieldgate_broker_bytes_out_total', 'bytes sent to clients'),
    dropped: registry.counter('fieldgate_broker_messages_dropped_total', 'messages not delivered, by reason'),
    retained: registry.gauge('fieldgate_broker_retained_messages', 'retained messages stored'),
    subscriptions: registry.gauge('fieldgate_broker_subscriptions', 'subscriptions, shared ones included'),
    queued: registry.gauge('fieldgate_broker_queued_messages', 'messages queued for clients beyond their in-flight window'),
    authFailures: registry.counter('fieldgate_broker_auth_failures_total', 'CONNECTs refused for bad credentials'),
    protocolErrors: registry.counter('fieldgate_broker_protocol_errors_total', 'connections closed for malformed or forbidden packets'),
    rejectedConnections: registry.counter('fieldgate_broker_rejected_connections_total', 'sockets closed at accept by a limit, by reason'),
    slowClients: registry.counter('fieldgate_broker_slow_clients_disconnected_total', 'clients disconnected because their unsent bytes passed maxWriteBuffer'),
    throttled: registry.counter('fieldgate_broker_publish_throttled_total', 'times a publisher was paused by the publish rate limit'),
  };
}

export type BrokerMetrics = ReturnType<typeof brokerMetrics>;
