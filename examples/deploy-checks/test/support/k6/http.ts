// Stand-in for k6/http: records each request and answers through runtime.answer.
import { type K6Response, respond } from './runtime.js'

interface Params {
  headers?: Record<string, string>
  tags?: Record<string, string>
}

function request(method: string, url: string, body: string | null, params: Params = {}): K6Response {
  return respond({ method, url, body, headers: { ...params.headers }, tags: { ...params.tags } })
}

export default {
  get: (url: string, params?: Params) => request('GET', url, null, params),
  post: (url: string, body: string | null, params?: Params) => request('POST', url, body, params),
  put: (url: string, body: string | null, params?: Params) => request('PUT', url, body, params),
  del: (url: string, body: string | null, params?: Params) => request('DELETE', url, body, params),
}
