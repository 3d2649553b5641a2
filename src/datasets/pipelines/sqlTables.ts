// Which tables a SQL query reads, when its step does not declare `inputs`: every identifier that
// names a known table, outside string literals and comments. A column that shares a table's name
// adds a needless dependency, never a missing one; `inputs:` settles such cases.

const LEXEMES = /--[^\n]*|\/\*[\s\S]*?\*\/|'(?:[^']|'')*'|"((?:[^"]|"")*)"|([A-Za-z_][A-Za-z0-9_]*)/g;

export function tablesNamedInSql(sql: string, knownTables: readonly string[]): string[] {
  const byLowerName = new Map(knownTables.map((table) => [table.toLowerCase(), table]));
  const found = new Set<string>();
  for (const match of sql.matchAll(LEXEMES)) {
    const identifier = match[1] !== undefined ? match[1].replace(/""/g, '"') : match[2];
    const table = identifier === undefined ? undefined : byLowerName.get(identifier.toLowerCase());
    if (table) found.add(table);
  }
  return [...found];
}
