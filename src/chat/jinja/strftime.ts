// Python's datetime.strftime in the C locale, for transformers' `strftime_now`.

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

function dayOfYear(date: Date): number {
  const utcDay = (d: Date) => Date.UTC(d.getFullYear(), d.getMonth(), d.getDate());
  return (utcDay(date) - utcDay(new Date(date.getFullYear(), 0, 1))) / 86_400_000 + 1;
}

/** Week number of the year where weeks start on `firstWeekday` (0 Sunday, 1 Monday), as %U and %W count. */
function weekOfYear(date: Date, firstWeekday: number): number {
  const daysSinceWeekStart = (date.getDay() - firstWeekday + 7) % 7;
  return Math.floor((dayOfYear(date) - 1 - daysSinceWeekStart + 7) / 7);
}

/** ISO 8601 week-numbering year and week, as %G and %V give them. */
function isoWeek(date: Date): { year: number; week: number } {
  const thursday = new Date(date.getFullYear(), date.getMonth(), date.getDate() + 3 - ((date.getDay() + 6) % 7));
  return { year: thursday.getFullYear(), week: Math.floor((dayOfYear(thursday) - 1) / 7) + 1 };
}

/** One strftime field; `padded` is false for glibc's `%-d` form. Undefined for an unknown code. */
function strftimeField(date: Date, code: string, padded: boolean): string | undefined {
  const number = (value: number, width: number, padding = '0') => (padded ? String(value).padStart(width, padding) : String(value));
  switch (code) {
    case 'a':
      return WEEKDAYS[date.getDay()].slice(0, 3);
    case 'A':
      return WEEKDAYS[date.getDay()];
    case 'w':
      return String(date.getDay());
    case 'u':
      return String(date.getDay() || 7);
    case 'd':
      return number(date.getDate(), 2);
    case 'e':
      return number(date.getDate(), 2, ' ');
    case 'b':
    case 'h':
      return MONTHS[date.getMonth()].slice(0, 3);
    case 'B':
      return MONTHS[date.getMonth()];
    case 'm':
      return number(date.getMonth() + 1, 2);
    case 'y':
      return number(date.getFullYear() % 100, 2);
    case 'Y':
      return String(date.getFullYear());
    case 'H':
      return number(date.getHours(), 2);
    case 'I':
      return number(date.getHours() % 12 || 12, 2);
    case 'p':
      return date.getHours() < 12 ? 'AM' : 'PM';
    case 'M':
      return number(date.getMinutes(), 2);
    case 'S':
      return number(date.getSeconds(), 2);
    case 'f':
      return String(date.getMilliseconds() * 1000).padStart(6, '0');
    case 'j':
      return number(dayOfYear(date), 3);
    case 'U':
      return number(weekOfYear(date, 0), 2);
    case 'W':
      return number(weekOfYear(date, 1), 2);
    case 'G':
      return String(isoWeek(date).year);
    case 'V':
      return number(isoWeek(date).week, 2);
    // strftime_now formats a naive datetime, which has no zone.
    case 'z':
    case 'Z':
      return '';
    case 'c':
      return strftime(date, '%a %b %e %H:%M:%S %Y');
    case 'x':
    case 'D':
      return strftime(date, '%m/%d/%y');
    case 'X':
    case 'T':
      return strftime(date, '%H:%M:%S');
    case 'F':
      return strftime(date, '%Y-%m-%d');
    case 'R':
      return strftime(date, '%H:%M');
    case 'n':
      return '\n';
    case 't':
      return '\t';
    case '%':
      return '%';
    default:
      return undefined;
  }
}

/** Python's `datetime.strftime` in the C locale (English names), with glibc's `%-d` (unpadded) form. */
export function strftime(date: Date, format: string): string {
  return format.replace(/%(-?)(.)/gs, (whole, unpadded: string, code: string) => strftimeField(date, code, unpadded === '') ?? whole);
}
