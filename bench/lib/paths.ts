import path from 'node:path'

/** Root of the repository; the suite runs every child process from here. */
export const ROOT = path.resolve(import.meta.dirname, '../..')
/** Generated histories, kept between runs and ignored by git. */
export const CACHE_DIR = path.join(ROOT, 'bench/.cache')
/** Result files of full runs. */
export const RESULTS_DIR = path.join(ROOT, 'bench/results')
/** Output of quick runs, ignored by git. */
export const QUICK_RESULTS_DIR = path.join(RESULTS_DIR, 'quick')
/** The generated report of the latest full run. */
export const REPORT_PATH = path.join(ROOT, 'docs/benchmarks.md')
