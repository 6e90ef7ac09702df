'use strict'
// Interop test: the unmodified wechat4u 0.7.14 client against cmd/wxsim.
//
// Run by ./run, which starts wxsim and passes its base URL in WXSIM_URL. This script
// creates the world through wxsim's control API (/_wxsim/v1/…), plays the phone that
// scans and confirms the QR login, plays the contact who writes, and checks what
// wechat4u does with it. It prints one line per check and a closing
// `interop: N passed, M failed`, and exits non-zero on any failure.
//
// How wechat4u is pointed at wxsim without touching its files: every request wechat4u
// makes goes through the instance's `request` function (core.js: `this.request({…})`),
// whose URLs are built from the real hosts (`https://login.wx.qq.com/jslogin…`,
// `https://wx2.qq.com/cgi-bin/…`, `https://webpush.wx2.qq.com/…`). The test wraps that
// instance property: it keeps method, path, query, headers and body, sends the request to
// WXSIM_URL instead, and puts the real host in the Host header, as wxsim's contract asks
// (protoclient/wxsim/README.md, "One listener for every host"). A URL on any other host is
// refused, and a guard on socket connects fails the test if anything in the process
// tries to reach a non-loopback address.

const assert = require('node:assert/strict')
const dns = require('node:dns')
const net = require('node:net')

// ---- leak guard: nothing in this process may leave the loopback interface ------------
const leaks = []
function isLoopbackHost (h) {
  if (!h) return true // net defaults to localhost
  h = String(h).replace(/^\[|\]$/g, '')
  return h === 'localhost' || h === '::1' || /^127\./.test(h) || h === '::ffff:127.0.0.1'
}
const realConnect = net.Socket.prototype.connect
net.Socket.prototype.connect = function (...args) {
  const a = Array.isArray(args[0]) ? args[0] : args
  const opts = (a[0] !== null && typeof a[0] === 'object') ? a[0] : { port: a[0], host: typeof a[1] === 'string' ? a[1] : undefined }
  if (!opts.path && !isLoopbackHost(opts.host)) {
    leaks.push(`connect to ${opts.host}:${opts.port}`)
    process.nextTick(() => this.destroy(new Error(`interop: refused to connect to ${opts.host}:${opts.port} (loopback only)`)))
    return this
  }
  return realConnect.apply(this, args)
}
const realLookup = dns.lookup
dns.lookup = function (hostname, ...rest) {
  if (!isLoopbackHost(hostname)) {
    leaks.push(`dns lookup of ${hostname}`)
    const cb = rest[rest.length - 1]
    const err = Object.assign(new Error(`interop: refused to resolve ${hostname} (loopback only)`), { code: 'ENOTFOUND' })
    if (typeof cb === 'function') return process.nextTick(() => cb(err))
    throw err
  }
  return realLookup.call(this, hostname, ...rest)
}

const BASE = process.env.WXSIM_URL
if (!BASE || !/^http:\/\/(127\.[0-9.]+|\[::1\]|localhost):\d+$/.test(BASE)) {
  console.error('interop: WXSIM_URL must be a loopback http://HOST:PORT, got ' + JSON.stringify(BASE))
  process.exit(2)
}

const Wechat = require('wechat4u')

const ACCOUNT = 'wxid_interop_alice'
const CONTACT = 'wxid_interop_bob'
const WEB_HOST = 'wx2.qq.com' // the account's host family: login assigns it, wechat4u must follow it
const TEXT1 = 'hi <Alice> \u{1F604}\nsecond line' // what Bob types
const WIRE1 = 'hi &lt;Alice&gt; <span class="emoji emoji1f604"></span><br/>second line' // reference §5.4.1, §5.4.4
const REPLY = 'hello Bob, this is wechat4u \u{1F44B}'
const TEXT2 = 'still there after the quiet polls?'
const TOTAL_BUDGET_MS = 60000

// The real host names of the protocol (reference §1.1). Anything else is a leak.
const REAL_HOST = /^(?:(?:login|webpush|file)\.)?(?:wx|wx2|wx8|weixin)\.qq\.com$|^(?:(?:login|webpush|file)\.)?(?:web|web2)\.wechat\.com$/

// ---- control API ---------------------------------------------------------------------
async function ctl (method, path, body) {
  const res = await fetch(BASE + '/_wxsim/v1' + path, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  const text = await res.text()
  if (res.status >= 400) throw new Error(`control ${method} ${path}: ${res.status} ${text}`)
  return text ? JSON.parse(text) : null
}

// ---- helpers -------------------------------------------------------------------------
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))
async function until (what, fn, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(50)
  }
}

// ---- wechat4u, pointed at wxsim ------------------------------------------------------
const bot = new Wechat()
const requests = [] // {endpoint, host, method, status, body, ms}
const errors = []
const messages = []
const events = {}
bot.on('uuid', uuid => { events.uuid = uuid })
bot.on('user-avatar', avatar => { events.avatar = avatar })
bot.on('login', () => { events.login = true })
bot.on('logout', () => { events.logout = true })
bot.on('error', err => { errors.push(err) })
bot.on('message', msg => { messages.push(msg) })

const realRequest = bot.request
bot.request = options => {
  const u = new URL(options.url)
  const endpoint = u.pathname.replace(/^\/cgi-bin\/mmwebwx-bin\//, '').replace(/^\//, '')
  if (u.protocol !== 'https:' || !REAL_HOST.test(u.hostname) || u.port !== '') {
    leaks.push(`request to ${options.url}`)
    return Promise.reject(new Error(`interop: wechat4u asked for ${options.url}, which is not a WeChat host`))
  }
  const entry = { endpoint, host: u.hostname, method: (options.method || 'GET').toUpperCase(), status: 0, body: '', ms: 0 }
  const t0 = Date.now()
  requests.push(entry)
  const redirected = Object.assign({}, options, {
    url: BASE + u.pathname + u.search,
    headers: Object.assign({}, options.headers, { Host: u.hostname }),
    proxy: false
  })
  const note = res => {
    entry.status = res.status
    entry.ms = Date.now() - t0
    entry.body = typeof res.data === 'string' ? res.data.slice(0, 200) : ''
  }
  return realRequest(redirected).then(res => { note(res); return res }, err => {
    if (err && err.response) note(err.response)
    else entry.status = -1
    throw err
  })
}

// ---- the checks ----------------------------------------------------------------------
const results = []
let bobName = ''
let firstMsg = null

const checks = [
  ['setup: account, contact and settings through the control API', async () => {
    await ctl('POST', '/accounts', { wxid: ACCOUNT, nickname: 'Alice', uin: 2100000001, host: WEB_HOST })
    await ctl('POST', `/accounts/${ACCOUNT}/contacts`, { wxid: CONTACT, nickname: 'Bob', sex: 1, signature: 'interop peer' })
    // check_host: wxsim refuses requests outside the host family login assigned (§1.1);
    // a short synccheck hold makes the no-news rounds quick.
    const st = await ctl('PATCH', '/settings', { check_host: true, synccheck_hold_ms: 500 })
    assert.equal(st.check_host, true)
    assert.equal(st.synccheck_hold_ms, 500)
  }],

  ['QR login: jslogin, scan (201 + avatar), confirm (200), newloginpage, webwxinit', async () => {
    bot.start()
    const uuid = await until('wechat4u to fetch a uuid', () => events.uuid)
    const logins = await ctl('GET', '/logins')
    const mine = logins.find(l => l.uuid === uuid)
    assert.ok(mine, `uuid ${uuid} is not in GET /logins: ${JSON.stringify(logins)}`)
    assert.equal(mine.state, 'waiting')
    await ctl('POST', `/logins/${encodeURIComponent(uuid)}/scan`, { wxid: ACCOUNT })
    const avatar = await until('the user-avatar event after the scan', () => events.avatar)
    assert.match(avatar, /^data:img\/jpg;base64,[A-Za-z0-9+/]+=*$/)
    await ctl('POST', `/logins/${encodeURIComponent(uuid)}/confirm`)
    await until('the login event', () => events.login)
    assert.equal(bot.state, 'login')
    const acct = await ctl('GET', `/accounts/${ACCOUNT}`)
    assert.equal(acct.logged_in, true)
    assert.equal(acct.username, bot.user.UserName, 'wechat4u holds the session UserName wxsim assigned')
    assert.equal(bot.user.NickName, 'Alice')
    assert.ok(bot.PROP.sid && bot.PROP.skey && bot.PROP.passTicket && String(bot.PROP.uin) === '2100000001',
      'credentials parsed from webwxnewloginpage: ' + JSON.stringify(bot.PROP))
    const bob = await until('Bob in the contact list', () =>
      Object.values(bot.contacts).find(c => c.NickName === 'Bob'))
    bobName = bob.UserName
    assert.match(bobName, /^@[0-9a-f]+$/)
  }],

  ['receive: a text from a contact arrives decoded', async () => {
    const sent = await ctl('POST', `/accounts/${ACCOUNT}/incoming`, { from: CONTACT, type: 1, content: TEXT1 })
    firstMsg = await until('the incoming text', () =>
      messages.find(m => m.MsgType === 1 && m.FromUserName === bobName && !m.isSendBySelf))
    assert.equal(String(firstMsg.MsgId), String(sent.msg_id))
    assert.equal(firstMsg.ToUserName, bot.user.UserName)
    assert.equal(firstMsg.OriginalContent, WIRE1, 'wire encoding of the text')
    assert.equal(firstMsg.Content, TEXT1, 'text as wechat4u decodes it')
  }],

  ['send: a reply reaches wxsim (GET …/sent)', async () => {
    const res = await bot.sendMsg(REPLY, firstMsg.FromUserName)
    assert.equal(res.BaseResponse.Ret, 0)
    assert.ok(res.MsgID, 'webwxsendmsg answers a MsgID')
    const sentList = await ctl('GET', `/accounts/${ACCOUNT}/sent`)
    const mine = sentList.find(s => s.content === REPLY)
    assert.ok(mine, 'reply not in GET /sent: ' + JSON.stringify(sentList))
    assert.equal(mine.to, CONTACT)
    assert.equal(mine.type, 1)
    assert.equal(String(mine.msg_id), String(res.MsgID))
    assert.equal(mine.attempts, 1)
  }],

  ['idle: synccheck rounds with no news, then a later message still arrives', async () => {
    const idle = () => requests.filter(r => r.endpoint === 'synccheck' && r.status === 200 &&
      r.body === 'window.synccheck={retcode:"0",selector:"0"}')
    const before = idle().length
    await until('three synccheck rounds answering selector 0', () => idle().length >= before + 3, 15000)
    for (const r of idle().slice(before)) {
      assert.ok(r.ms >= 400, `a no-news synccheck is a long poll held ~synccheck_hold_ms (500), this one took ${r.ms} ms`)
    }
    assert.equal(bot.state, 'login')
    const syncsBefore = requests.filter(r => r.endpoint === 'webwxsync').length
    const sent = await ctl('POST', `/accounts/${ACCOUNT}/incoming`, { from: CONTACT, type: 1, content: TEXT2 })
    const m = await until('the later text', () =>
      messages.find(x => String(x.MsgId) === String(sent.msg_id)), 10000)
    assert.equal(m.Content, TEXT2)
    assert.equal(m.FromUserName, bobName)
    assert.ok(requests.filter(r => r.endpoint === 'webwxsync').length > syncsBefore)
    const stats = await ctl('GET', '/stats')
    assert.ok(stats.requests.synccheck >= 4, 'wxsim counted the polls: ' + JSON.stringify(stats))
  }],

  ['logout: webwxlogout ends the session on the server', async () => {
    bot.stop()
    await until('the account to be logged out in wxsim', async () =>
      !(await ctl('GET', `/accounts/${ACCOUNT}`)).logged_in, 5000)
  }],

  ['hosts: real host names in every request, wx2 family after login, nothing left loopback', async () => {
    assert.deepEqual(leaks, [])
    const byEndpoint = {}
    for (const r of requests) (byEndpoint[r.endpoint] = byEndpoint[r.endpoint] || new Set()).add(r.host)
    const hosts = e => [...(byEndpoint[e] || [])].sort().join(',')
    assert.equal(hosts('jslogin'), 'login.wx.qq.com')
    assert.equal(hosts('login'), 'login.wx.qq.com')
    assert.equal(hosts('synccheck'), 'webpush.' + WEB_HOST)
    for (const e of Object.keys(byEndpoint)) {
      if (e === 'jslogin' || e === 'login' || e === 'synccheck') continue
      assert.equal(hosts(e), WEB_HOST, `endpoint ${e}`)
    }
    for (const e of ['webwxnewloginpage', 'webwxinit', 'webwxstatusnotify', 'webwxgetcontact', 'webwxsync', 'webwxsendmsg', 'webwxlogout']) {
      assert.ok(byEndpoint[e], `wechat4u never called ${e}`)
    }
  }],

  ['no errors: wechat4u emitted no error event', async () => {
    assert.deepEqual(errors.map(e => (e.tips ? e.tips + ': ' : '') + e.message), [])
  }]
]

async function main () {
  const started = Date.now()
  const watchdog = setTimeout(() => {
    console.error(`interop: overall budget of ${TOTAL_BUDGET_MS} ms exceeded`)
    report(started, true)
  }, TOTAL_BUDGET_MS)
  let broken = false
  for (const [name, fn] of checks) {
    if (broken) {
      results.push({ name, ok: false, why: 'not run: an earlier check failed' })
      continue
    }
    const t0 = Date.now()
    try {
      await fn()
      results.push({ name, ok: true, ms: Date.now() - t0 })
      console.log(`ok   ${name} (${Date.now() - t0} ms)`)
    } catch (err) {
      results.push({ name, ok: false, why: err && err.stack ? err.stack : String(err) })
      console.log(`FAIL ${name}\n     ${String(err && err.message).split('\n').join('\n     ')}`)
      broken = true
    }
  }
  clearTimeout(watchdog)
  report(started, false)
}

function report (started, timedOut) {
  const failed = results.filter(r => !r.ok)
  const missing = checks.length - results.length
  if (process.env.INTEROP_VERBOSE) {
    console.log('--- every request wechat4u made (endpoint host method status):')
    for (const r of requests) console.log(`  ${r.endpoint} ${r.host} ${r.method} ${r.status} ${JSON.stringify(r.body.slice(0, 80))}`)
  }
  if (failed.length || timedOut) {
    for (const r of failed) if (!/^not run/.test(r.why)) console.log(`--- ${r.name}\n${r.why}`)
    if (errors.length) console.log('--- wechat4u error events:\n' + errors.map(e => `${e.tips || ''} ${e.stack || e}`).join('\n'))
    console.log('--- last requests (endpoint host method status body):')
    for (const r of requests.slice(-25)) console.log(`  ${r.endpoint} ${r.host} ${r.method} ${r.status} ${JSON.stringify(r.body.slice(0, 120))}`)
    if (leaks.length) console.log('--- leaks refused:\n  ' + leaks.join('\n  '))
  }
  const passed = results.filter(r => r.ok).length
  console.log(`interop: wechat4u 0.7.14 against wxsim in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  console.log(`interop: ${passed} passed, ${failed.length + missing} failed`)
  process.exit(failed.length || missing || timedOut ? 1 : 0)
}

main()
