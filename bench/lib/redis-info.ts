import net from 'node:net'

/** Sends INFO to a Redis server over RESP and returns its fields. */
export function readRedisInfo(redisUrl: string, section = 'server'): Promise<Map<string, string>> {
  const url = new URL(redisUrl)
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port || 6379), url.hostname)
    let reply = ''
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`Redis at ${redisUrl} did not answer INFO within 5 s`))
    }, 5_000)
    socket.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8')
      // A bulk string reply: "$<length>\r\n<payload>\r\n".
      const header = /^\$(\d+)\r\n/.exec(reply)
      if (!header?.[1]) return
      const length = Number(header[1])
      const payload = reply.slice(header[0].length)
      if (Buffer.byteLength(payload) < length) return
      clearTimeout(timer)
      socket.end()
      const fields = new Map<string, string>()
      for (const line of payload.split('\r\n')) {
        const colon = line.indexOf(':')
        if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1))
      }
      resolve(fields)
    })
    socket.write(`INFO ${section}\r\n`)
  })
}
