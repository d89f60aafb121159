import WebSocket from 'ws'

/**
 * Sends a raw WebSocket upgrade and returns the HTTP status of the response: 101 when the
 * server accepts it, else the status it rejected it with.
 */
export function upgradeStatus(
  baseUrl: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}${path}`, { headers })
    socket.on('open', () => {
      socket.close()
      resolve(101)
    })
    socket.on('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0)
      socket.terminate()
    })
    socket.on('error', reject)
  })
}
