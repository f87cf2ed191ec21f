import { readFileSync } from 'node:fs'
import { parseAllDocuments } from 'yaml'
import { rel } from './paths.js'

/** One YAML document of a file, with where it came from for messages. */
export interface Doc {
  /** Path relative to the repository root. */
  file: string
  /** Index of the document in its file. */
  index: number
  // biome-ignore lint/suspicious/noExplicitAny: manifests are untyped until a model validates them
  obj: any
}

/** Parses every document of a YAML file; throws naming the file on any syntax error or warning. */
export function readYamlDocs(path: string): Doc[] {
  return parseYamlDocs(readFileSync(path, 'utf8'), rel(path))
}

export function parseYamlDocs(text: string, file: string): Doc[] {
  const docs: Doc[] = []
  parseAllDocuments(text, { merge: true, uniqueKeys: true }).forEach((doc, index) => {
    const problems = [...doc.errors, ...doc.warnings]
    if (problems.length > 0) {
      throw new Error(`${file} document ${index}: ${problems.map((p) => p.message).join('; ')}`)
    }
    const obj = doc.toJS({ maxAliasCount: 100 })
    if (obj !== null && obj !== undefined) docs.push({ file, index, obj })
  })
  return docs
}

/** `kind/name` of a manifest, for messages. */
export const id = (doc: Doc) => `${doc.obj?.kind}/${doc.obj?.metadata?.name} (${doc.file}#${doc.index})`
