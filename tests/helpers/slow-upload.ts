/**
 * Opens a raw connection to the server on `port` and starts a chunked JSON upload that stays in
 * flight until `finish()`: the server cannot answer before the body ends (the body-limit
 * middleware reads it whole). `finish()` sends the rest and resolves with everything received
 * once the server closes the connection.
 */
export async function openSlowUpload(port: number) {
  let received = ''
  let closed: () => void = () => {}
  const done = new Promise<void>((resolve) => {
    closed = resolve
  })
  const socket = await Bun.connect({
    hostname: '127.0.0.1',
    port,
    socket: {
      data(_socket, data) {
        received += new TextDecoder().decode(data)
      },
      close() {
        closed()
      },
    },
  })
  const part = '{"n":'
  socket.write(
    'POST /api/v1/uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
      `Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n${part.length.toString(16)}\r\n${part}\r\n`,
  )
  return {
    finish() {
      socket.write('2\r\n1}\r\n0\r\n\r\n')
      return done.then(() => received)
    },
  }
}

/** The `METRICS_TOKEN` to start a server with for `waitForInFlight`. */
export const METRICS_TOKEN = 'slow-upload-metrics'

/**
 * Polls `/metrics` until `http_requests_in_flight` (the scrape included) is at least `count`:
 * the upload really is in flight (a fixed sleep is not enough on a loaded machine).
 */
export async function waitForInFlight(baseUrl: string, count: number) {
  const deadline = Date.now() + 10_000
  for (;;) {
    const text = await (
      await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
    ).text()
    const value = Number(/^http_requests_in_flight (\d+)$/m.exec(text)?.[1] ?? 0)
    if (value >= count) return
    if (Date.now() > deadline) throw new Error(`http_requests_in_flight stayed at ${value}`)
    await Bun.sleep(20)
  }
}
