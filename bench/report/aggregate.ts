import { median } from '../lib/statistics.ts'
import type { RunResults, ScenarioId, Subject } from '../results-format.ts'

/** A figure over the repetitions of one configuration. */
export interface Aggregate {
  median: number
  min: number
  max: number
  count: number
}

/** Returns the median and range of a figure over the repetitions; undefined without data. */
export function aggregate(
  results: RunResults,
  scenario: ScenarioId,
  subject: Subject,
  size: number,
  figure: string,
): Aggregate | undefined {
  const values = results.samples
    .filter((s) => s.scenario === scenario && s.subject === subject && s.size === size && !s.error)
    .map((s) => s.figures[figure])
    .filter((value): value is number => typeof value === 'number' && Number.isFinite(value))
  if (values.length === 0) return undefined
  return {
    median: median(values),
    min: Math.min(...values),
    max: Math.max(...values),
    count: values.length,
  }
}

/** Returns the errors of a configuration's failed samples. */
export function sampleErrors(
  results: RunResults,
  scenario: ScenarioId,
  subject: Subject,
  size: number,
): string[] {
  return results.samples
    .filter((s) => s.scenario === scenario && s.subject === subject && s.size === size && s.error)
    .map((s) => s.error ?? '')
}

/** Formats a number with a fixed count of significant digits and thousands separators. */
export function formatNumber(value: number | undefined, digits = 3): string {
  if (value === undefined || !Number.isFinite(value)) return 'n/a'
  if (Math.abs(value) >= 10 ** digits) return Math.round(value).toLocaleString('en-US')
  return Number(value.toPrecision(digits)).toLocaleString('en-US', { maximumFractionDigits: 6 })
}

/** Formats an aggregate as its median, with the range when the repetitions differ. */
export function formatAggregate(value: Aggregate | undefined, digits = 3, scale = 1): string {
  if (!value) return 'n/a'
  const middle = formatNumber(value.median * scale, digits)
  if (value.count < 2 || value.min === value.max) return middle
  return `${middle} (${formatNumber(value.min * scale, digits)}–${formatNumber(value.max * scale, digits)})`
}
