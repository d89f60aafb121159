/** One line of a chart. */
export interface ChartSeries {
  label: string
  points: { x: number; y: number }[]
}

export interface LineChart {
  title: string
  xLabel: string
  yLabel: string
  series: ChartSeries[]
}

const WIDTH = 760
const HEIGHT = 420
const MARGIN = { top: 40, right: 210, bottom: 56, left: 78 }
/** Colors that stay distinct for readers with the common color vision deficiencies. */
const COLORS = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#000000']

/**
 * Renders a line chart as a standalone SVG document: x on a log scale (client counts span
 * orders of magnitude), y linear from zero, one colored line with markers per series.
 */
export function renderLineChart(chart: LineChart): string {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom
  const points = chart.series.flatMap((series) => series.points).filter((p) => Number.isFinite(p.y))
  const xs = [...new Set(points.map((point) => point.x))].sort((a, b) => a - b)
  const minLog = Math.log10(xs[0] ?? 1)
  const maxLog = Math.log10(xs.at(-1) ?? 10)
  const span = maxLog - minLog || 1
  const yMax = niceCeiling(Math.max(0, ...points.map((point) => point.y)))
  const xOf = (x: number) =>
    MARGIN.left + (xs.length === 1 ? plotWidth / 2 : ((Math.log10(x) - minLog) / span) * plotWidth)
  const yOf = (y: number) => MARGIN.top + plotHeight - (y / yMax) * plotHeight

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    text(MARGIN.left, 22, chart.title, 'start', 15, 'bold'),
  ]
  for (let tick = 0; tick <= 5; tick++) {
    const value = (yMax / 5) * tick
    const y = yOf(value)
    parts.push(line(MARGIN.left, y, MARGIN.left + plotWidth, y, '#e0e0e0'))
    parts.push(text(MARGIN.left - 8, y + 4, formatTick(value), 'end'))
  }
  for (const x of xs) {
    parts.push(line(xOf(x), MARGIN.top + plotHeight, xOf(x), MARGIN.top + plotHeight + 5, '#333'))
    parts.push(text(xOf(x), MARGIN.top + plotHeight + 20, formatTick(x), 'middle'))
  }
  parts.push(line(MARGIN.left, MARGIN.top, MARGIN.left, MARGIN.top + plotHeight, '#333'))
  parts.push(
    line(
      MARGIN.left,
      MARGIN.top + plotHeight,
      MARGIN.left + plotWidth,
      MARGIN.top + plotHeight,
      '#333',
    ),
  )
  parts.push(text(MARGIN.left + plotWidth / 2, HEIGHT - 12, chart.xLabel, 'middle'))
  parts.push(
    `<text x="18" y="${MARGIN.top + plotHeight / 2}" text-anchor="middle" transform="rotate(-90 18 ${MARGIN.top + plotHeight / 2})">${escapeXml(chart.yLabel)}</text>`,
  )

  chart.series.forEach((series, index) => {
    const color = COLORS[index % COLORS.length] ?? '#000'
    const valid = series.points.filter((point) => Number.isFinite(point.y))
    if (valid.length > 1) {
      const path = valid.map((point) => `${xOf(point.x).toFixed(1)},${yOf(point.y).toFixed(1)}`)
      parts.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2" points="${path.join(' ')}"/>`,
      )
    }
    for (const point of valid) {
      parts.push(
        `<circle cx="${xOf(point.x).toFixed(1)}" cy="${yOf(point.y).toFixed(1)}" r="3.5" fill="${color}"/>`,
      )
    }
    const legendY = MARGIN.top + 10 + index * 20
    const legendX = MARGIN.left + plotWidth + 16
    parts.push(line(legendX, legendY - 4, legendX + 22, legendY - 4, color, 3))
    parts.push(text(legendX + 28, legendY, series.label, 'start'))
  })
  parts.push('</svg>')
  return `${parts.join('\n')}\n`
}

/** Returns 1, 2 or 5 times a power of ten, at least the value. */
function niceCeiling(value: number): number {
  if (!(value > 0)) return 1
  const power = 10 ** Math.floor(Math.log10(value))
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power
  return 10 * power
}

function formatTick(value: number): string {
  if (value >= 1_000_000) return `${value / 1_000_000}M`
  if (value >= 1000) return `${value / 1000}k`
  return Number.isInteger(value) ? String(value) : value.toFixed(1)
}

function line(x1: number, y1: number, x2: number, y2: number, color: string, width = 1): string {
  return `<line x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" y2="${y2.toFixed(1)}" stroke="${color}" stroke-width="${width}"/>`
}

function text(
  x: number,
  y: number,
  content: string,
  anchor: 'start' | 'middle' | 'end',
  size = 12,
  weight = 'normal',
): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" text-anchor="${anchor}" font-size="${size}" font-weight="${weight}">${escapeXml(content)}</text>`
}

function escapeXml(value: string): string {
  return value.replace(
    /[<>&"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] ?? c,
  )
}
