import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/** Prometheus metrics of one server instance, served at /metrics. */
export class Metrics {
  readonly registry = new Registry()

  readonly httpRequests = new Counter({
    name: 'parley_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  })

  readonly syncConnections = new Gauge({
    name: 'parley_sync_connections',
    help: 'Open document connections on this instance',
    registers: [this.registry],
  })

  readonly syncRefusals = new Counter({
    name: 'parley_sync_refusals_total',
    help: 'Document connections or updates refused, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  })

  readonly updatesStored = new Counter({
    name: 'parley_updates_stored_total',
    help: 'Document updates appended to the update log',
    registers: [this.registry],
  })

  readonly storeFailures = new Counter({
    name: 'parley_store_failures_total',
    help: 'Failed attempts to append document updates; each is retried',
    registers: [this.registry],
  })

  readonly storeSeconds = new Histogram({
    name: 'parley_store_seconds',
    help: 'Time to append one batch of document updates, in seconds',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [this.registry],
  })

  constructor() {
    collectDefaultMetrics({ register: this.registry })
  }
}
