'use strict'
// Start, restart and stop a Klamm broker process for the KafkaJS integration tests.
//
// Each Broker gets a free port on 127.0.0.1 and a fresh temporary log.dirs. Its stdout and
// stderr go to a log file, whose tail is shown when something goes wrong. Every wait is
// bounded, so a broker that hangs makes a test fail instead of hanging the run.
//
// The binary is $KLAMM_BROKER, or build/klamm of this repository when that is not set.

const { spawn } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')

const DEFAULT_BINARY = path.resolve(__dirname, '..', '..', 'build', 'klamm')
const READY_TIMEOUT_MS = 10000 // until the port accepts connections
const STOP_TIMEOUT_MS = 10000 // until the process has exited after SIGTERM
const LOG_TAIL_LINES = 80
const CRASH_SIGNALS = ['SIGSEGV', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGILL']
const SANITIZER_MARKERS = ['ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:']

const running = new Set() // killed if the test process exits early
process.on('exit', () => {
  for (const broker of running) broker.process.kill('SIGKILL')
})

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

// A port that was free a moment ago: listen on port 0 and let the kernel choose.
function freePort () {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

function portAcceptsConnections (port) {
  return new Promise(resolve => {
    const socket = net.connect({ host: '127.0.0.1', port })
    const done = ok => { socket.destroy(); resolve(ok) }
    socket.setTimeout(500, () => done(false))
    socket.on('connect', () => done(true))
    socket.on('error', () => done(false))
  })
}

class Broker {
  constructor (port) {
    this.binary = process.env.KLAMM_BROKER || DEFAULT_BINARY
    this.port = port
    this.workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'klamm-it-'))
    this.logDirs = path.join(this.workDir, 'data') // the broker's log.dirs
    this.logPath = path.join(this.workDir, 'broker.log') // its stdout + stderr
    fs.mkdirSync(this.logDirs)
    this.process = null
    this.exit = null // resolves with { code, signal } when the current process ends
    this.savedLog = ''
  }

  // A new, started broker; its directory is removed again if it does not start.
  static async start () {
    const broker = new Broker(await freePort())
    try {
      await broker.start()
    } catch (error) {
      await broker.close().catch(() => {})
      throw error
    }
    return broker
  }

  get bootstrap () {
    return `127.0.0.1:${this.port}`
  }

  args () {
    return [
      '--override', `listeners=PLAINTEXT://127.0.0.1:${this.port}`,
      '--override', `log.dirs=${this.logDirs}`,
      '--override', 'message.max.bytes=4194304',
      '--override', 'socket.request.max.bytes=104857600'
    ]
  }

  async start () {
    try {
      fs.accessSync(this.binary, fs.constants.X_OK)
    } catch {
      throw new Error(`broker binary ${this.binary} does not exist or is not executable (build it with \`make build\`)`)
    }
    fs.appendFileSync(this.logPath, `----- starting: ${this.binary} ${this.args().join(' ')}\n`)
    const log = fs.openSync(this.logPath, 'a')
    const child = spawn(this.binary, this.args(), { stdio: ['ignore', log, log] })
    fs.closeSync(log)
    this.process = child
    this.exited = false
    this.exit = new Promise(resolve => {
      const ended = result => {
        this.exited = true
        running.delete(this)
        resolve(result)
      }
      child.on('exit', (code, signal) => ended({ code, signal }))
      child.on('error', error => ended({ code: null, signal: null, error })) // could not spawn
    })
    running.add(this)

    const deadline = Date.now() + READY_TIMEOUT_MS
    while (!(await portAcceptsConnections(this.port))) {
      if (this.exited) {
        const { code, signal, error } = await this.exit
        const how = error ? error.message : signal || `status ${code}`
        throw new Error(`broker exited (${how}) before accepting connections\n${this.logTail()}`)
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL')
        throw new Error(`broker did not accept connections on port ${this.port} within ${READY_TIMEOUT_MS} ms\n${this.logTail()}`)
      }
      await sleep(50)
    }
  }

  // Send the signal and wait for the exit. Throws if the broker hangs, or if a graceful
  // stop crashes or leaves a sanitizer report in the log.
  async stop (signal = 'SIGTERM') {
    if (!this.process || this.exited) return
    this.process.kill(signal)
    const timeout = sleep(STOP_TIMEOUT_MS).then(() => null)
    const result = await Promise.race([this.exit, timeout])
    if (result === null) {
      this.process.kill('SIGKILL')
      await this.exit
      throw new Error(`broker did not exit within ${STOP_TIMEOUT_MS} ms of ${signal}\n${this.logTail()}`)
    }
    if (signal === 'SIGKILL') return
    if (CRASH_SIGNALS.includes(result.signal)) {
      throw new Error(`broker crashed with ${result.signal} while stopping\n${this.logTail()}`)
    }
    if (SANITIZER_MARKERS.some(marker => this.logText().includes(marker))) {
      throw new Error(`sanitizer report in the broker's log\n${this.logTail()}`)
    }
  }

  // Stop with the signal (SIGTERM: graceful, SIGKILL: crash) and start on the same log.dirs.
  async restart (signal = 'SIGTERM') {
    await this.stop(signal)
    fs.appendFileSync(this.logPath, `----- restart after ${signal}\n`)
    await this.start()
  }

  // Stop gracefully (if running) and remove the temporary directory.
  async close () {
    try {
      await this.stop('SIGTERM')
    } finally {
      this.savedLog = this.logText()
      fs.rmSync(this.workDir, { recursive: true, force: true })
    }
  }

  logText () {
    try {
      return fs.readFileSync(this.logPath, 'utf8')
    } catch {
      return this.savedLog
    }
  }

  logTail (lines = LOG_TAIL_LINES) {
    const tail = this.logText().split('\n').filter(Boolean).slice(-lines)
    return `----- broker log (${this.bootstrap}, last ${tail.length} lines) -----\n${tail.join('\n')}\n----- end of broker log -----`
  }
}

module.exports = { Broker }
