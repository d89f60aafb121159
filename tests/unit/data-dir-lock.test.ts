import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { acquireDataDirLock } from '../../sync-server/persistence/data-dir-lock.ts'

const directories: string[] = []

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-lock-'))
  directories.push(dir)
  return dir
}

function startTimeOf(pid: number): string {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? ''
}

afterEach(() => {
  for (const dir of directories.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

it('takes over the lock of a dead process', () => {
  const dir = tempDir()
  fs.writeFileSync(path.join(dir, 'parley.lock'), '2147483646 1\n')
  const lock = acquireDataDirLock(dir)
  expect(fs.readFileSync(lock.path, 'utf8').split(' ')[0]).toBe(String(process.pid))
  lock.release()
  expect(fs.existsSync(lock.path)).toBe(false)
})

it('refuses while the owner runs', () => {
  const dir = tempDir()
  const owner = spawn('sleep', ['30'])
  try {
    const pid = owner.pid!
    fs.writeFileSync(path.join(dir, 'parley.lock'), `${pid} ${startTimeOf(pid)}\n`)
    expect(() => acquireDataDirLock(dir)).toThrow(`in use by process ${pid}`)
  } finally {
    owner.kill()
  }
})

it('takes over when a reused pid started later', () => {
  const dir = tempDir()
  const unrelated = spawn('sleep', ['30'])
  try {
    fs.writeFileSync(path.join(dir, 'parley.lock'), `${unrelated.pid} 1\n`)
    const lock = acquireDataDirLock(dir)
    expect(fs.readFileSync(lock.path, 'utf8').split(' ')[0]).toBe(String(process.pid))
    lock.release()
  } finally {
    unrelated.kill()
  }
})
