/** Resolves when `p` settles or the deadline (a performance.now() time) passes, whichever is first. */
export function withinDeadline(p: Promise<unknown>, deadline: number): Promise<void> {
  const ms = deadline - performance.now()
  if (ms <= 0) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    const done = () => {
      clearTimeout(timer)
      resolve()
    }
    p.then(done, done)
  })
}
