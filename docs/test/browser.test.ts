// Opens the built site in headless Chromium (Debian's `chromium`, driven by playwright-core): the pages
// render their heading, hydrate, route on the client, and log no script error.
import { existsSync } from 'node:fs'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requireBuiltSite, serveSite } from './site.js'

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const hasChromium = existsSync(executablePath)
if (!hasChromium) {
  if (process.env.CI) throw new Error(`${executablePath} is missing: apt-get install -y chromium`)
  console.warn(`docs browser test skipped: ${executablePath} not found (apt-get install -y chromium)`)
}

describe.skipIf(!hasChromium)('the built site in Chromium', () => {
  let browser: Browser
  let site: Awaited<ReturnType<typeof serveSite>>

  beforeAll(async () => {
    requireBuiltSite()
    site = await serveSite()
    browser = await chromium.launch({
      executablePath,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic',
        '--headless',
      ],
    })
  })

  afterAll(async () => {
    await browser?.close()
    await site?.close()
  })

  /** Opens a page and collects every console error, uncaught exception and failed or 4xx/5xx request. */
  async function open(path: string): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage()
    const problems: string[] = []
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console: ${msg.text()}`)
    })
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
    page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()}`))
    page.on('response', (res) => {
      if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`)
    })
    await page.goto(`${site.url}${path}`, { waitUntil: 'networkidle' })
    // The app is mounted (hydrated) once Vue has attached itself to #app.
    await page.waitForFunction(() =>
      Boolean((document.querySelector('#app') as { __vue_app__?: unknown })?.__vue_app__),
    )
    return { page, problems }
  }

  it('home page: heading rendered, quick start shown, client routing works, no errors', async () => {
    const { page, problems } = await open('/')
    await expect.poll(() => page.locator('h1').first().textContent()).toContain('@goreliable')
    expect(await page.locator('h1').first().isVisible()).toBe(true)
    expect(await page.locator('.vp-doc').textContent()).toContain('app.register(goreliable')
    await page.getByRole('link', { name: 'Get started' }).first().click()
    await page.waitForURL(/\/getting-started/)
    await expect.poll(() => page.locator('.vp-doc h1').textContent()).toContain('Getting started')
    expect(problems).toEqual([])
    await page.close()
  })

  it.each([
    ['/reference/core', '@goreliable/core'],
    ['/reference/metrics', 'Metrics'],
  ])('reference page %s: heading rendered, no errors', async (path, heading) => {
    const { page, problems } = await open(path)
    const h1 = page.locator('.vp-doc h1').first()
    await expect.poll(() => h1.textContent()).toContain(heading)
    expect(await h1.isVisible()).toBe(true)
    expect(problems).toEqual([])
    await page.close()
  })
})
