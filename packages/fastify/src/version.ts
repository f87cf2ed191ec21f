import { createRequire } from 'node:module'

/** This package's version, for `goreliable_build_info`. package.json is one level up from src/ and dist/ alike. */
export const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string })
  .version
