// One page per example that has a README (examples/<name>/README.md), included as it is.
import { relative } from 'node:path'
import { exampleSources } from '../lib/sources.js'

const here = new URL('.', import.meta.url).pathname

export default {
  paths() {
    return exampleSources().map((e) => ({
      params: { example: e.id, title: e.title },
      content: `<!--@include: ${relative(here, e.readme)}-->`,
    }))
  },
}
