// Stand-in for k6/metrics: custom metrics record what the script adds.
import { runtime } from './runtime.js'

class Metric {
  constructor(
    readonly name: string,
    type: string,
  ) {
    if (runtime.metrics.has(name)) throw new Error(`metric ${name} defined twice`)
    runtime.metrics.set(name, { type, values: [] })
  }

  add(value: number | boolean): void {
    runtime.metrics.get(this.name)!.values.push(value)
  }
}

export class Rate extends Metric {
  constructor(name: string) {
    super(name, 'rate')
  }
}
export class Counter extends Metric {
  constructor(name: string) {
    super(name, 'counter')
  }
}
export class Trend extends Metric {
  constructor(name: string) {
    super(name, 'trend')
  }
}
export class Gauge extends Metric {
  constructor(name: string) {
    super(name, 'gauge')
  }
}
