const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' })
const dayFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' })
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })

function isSameDay(a: Date, b: Date): boolean {
  return a.toDateString() === b.toDateString()
}

/** Formats a time as the clock time today, or as a short date on other days. */
export function formatShortTime(time: number | string, now = new Date()): string {
  const date = new Date(time)
  if (Number.isNaN(date.getTime())) return ''
  return isSameDay(date, now) ? timeFormat.format(date) : dayFormat.format(date)
}

/** Formats a message time as the clock time today, or with its date on other days. */
export function formatMessageTime(time: number, now = new Date()): string {
  const date = new Date(time)
  return isSameDay(date, now) ? timeFormat.format(date) : fullFormat.format(date)
}

/** Formats a time in full, for tooltips. */
export function formatFullTime(time: number | string): string {
  const date = new Date(time)
  return Number.isNaN(date.getTime()) ? '' : fullFormat.format(date)
}
