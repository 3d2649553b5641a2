// Quoting for the SQL that the datasets code builds for DuckDB: paths, values and column names.

/** A SQL string literal: paths, values. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A quoted SQL identifier: table and column names as they are spelled. */
export function sqlIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A DuckDB list of string literals. */
export function sqlList(values: string[]): string {
  return `[${values.map(sqlString).join(', ')}]`;
}
