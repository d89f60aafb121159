import fs from 'node:fs'
import path from 'node:path'
import type { RunResults } from '../results-format.ts'
import { aggregate } from './aggregate.ts'
import { renderLineChart } from './svg-chart.ts'

/** A chart written to disk. */
export interface WrittenChart {
  title: string
  file: string
}

const CHARTS = [
  {
    name: 'fan-out-throughput',
    figure: 'deliveriesPerSecond',
    title: 'Fan-out: deliveries per second',
    yLabel: 'deliveries/s',
  },
  {
    name: 'fan-out-server-cpu',
    figure: 'serverCpuUsPerDelivery',
    title: 'Fan-out: server CPU per delivery',
    yLabel: 'µs per delivery',
  },
  {
    name: 'fan-out-latency-p50',
    figure: 'latencyP50Ms',
    title: 'Fan-out: latency to the last receiver, p50',
    yLabel: 'ms',
  },
  {
    name: 'fan-out-latency-p99',
    figure: 'latencyP99Ms',
    title: 'Fan-out: latency to the last receiver, p99',
    yLabel: 'ms',
  },
]

/** Renders the fan-out figures against the client count, one SVG file per figure. */
export function renderFanOutCharts(results: RunResults, chartDir: string): WrittenChart[] {
  return CHARTS.map((chart) => {
    const series = results.peers.map((peer) => ({
      label: peer.label,
      points: results.plan.fanOutSizes.map((size) => ({
        x: size,
        y: aggregate(results, 'fan-out', peer.id, size, chart.figure)?.median ?? Number.NaN,
      })),
    }))
    const file = path.join(chartDir, `${chart.name}.svg`)
    fs.writeFileSync(
      file,
      renderLineChart({
        title: chart.title,
        xLabel: 'clients in the document',
        yLabel: chart.yLabel,
        series,
      }),
    )
    return { title: chart.title, file }
  })
}
