import { createRequire } from 'node:module'
import { registerBuildInfo } from '@goreliable/core'
import type { Registry } from 'prom-client'

let version: string | undefined

/** Adds `goreliable_build_info{package="@goreliable/nats"}` to a registry this package reports into. */
export function registerNatsBuildInfo(registry: Registry): void {
  version ??= (createRequire(import.meta.url)('../package.json') as { version: string }).version
  registerBuildInfo(registry, '@goreliable/nats', version)
}
