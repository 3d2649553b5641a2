// CSV as RFC 4180 writes it. Shared by the extension host and the webviews.
export type CsvValue = string | number | null | undefined;

/** A field, quoted when it holds a comma, a quote or a line break (quotes are doubled). */
export function csvField(value: CsvValue): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(values: readonly CsvValue[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

export function toCsv(rows: readonly (readonly CsvValue[])[]): string {
  return rows.map(csvLine).join('');
}
