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
