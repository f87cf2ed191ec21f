// Plain-text and Markdown tables for the terminal and the report files.

/** A table for a terminal: columns padded, cells wider than their column's limit wrapped on words. */
export function renderTextTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  maxWidths: readonly number[] = [],
): string {
  const wrapped = [headers, ...rows].map((row) => row.map((cell, i) => wrap(cell, maxWidths[i] ?? 60)))
  const widths = headers.map((_, i) =>
    Math.max(...wrapped.map((row) => Math.max(...(row[i] ?? ['']).map((l) => l.length)))),
  )
  const line = (cells: string[][]) => {
    const height = Math.max(...cells.map((c) => c.length))
    return Array.from({ length: height }, (_, k) =>
      cells
        .map((c, i) => (c[k] ?? '').padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    ).join('\n')
  }
  const rule = widths.map((w) => '-'.repeat(w)).join('  ')
  return [line(wrapped[0]!), rule, ...wrapped.slice(1).map(line)].join('\n')
}

/** A GitHub-flavoured Markdown table; `|` and line breaks in cells are escaped. */
export function renderMarkdownTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>')
  const out = [`| ${headers.map(cell).join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`]
  for (const row of rows) out.push(`| ${row.map(cell).join(' | ')} |`)
  return out.join('\n')
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = []
  for (const paragraph of text.split('\n')) {
    let current = ''
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      if (current && current.length + 1 + word.length > width) {
        lines.push(current)
        current = word
      } else {
        current = current ? `${current} ${word}` : word
      }
    }
    lines.push(current)
  }
  return lines
}
