// conformance-summary.mjs summarises a run of the HTTP caching test suite
// (npm package http-cache-tests, the suite behind cache-tests.fyi) and gates
// regressions. It is run by scripts/conformance; see that script for usage.
//
//   node scripts/conformance-summary.mjs --suite DIR --results FILE
//        [--check FILE | --update FILE]
//
// Every test is classified by the suite's own code (lib/display.mjs
// determineTestResult, the function behind the cache-tests.fyi tables), with
// the test's own kind (required, optimal or check) and its dependencies: a
// test whose dependency did not pass counts as not passed.
//
// The regression list holds the ids of the required and optimal tests that
// passed, one a line, sorted. Check tests only record how a cache behaves, so
// they are not part of it. --check exits 1 when a listed id no longer passes;
// --update rewrites the list.

import fs from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const kinds = ['required', 'optimal', 'check']

// outcomes maps the suite's result symbols to names; pass and yes are passes.
const outcomes = new Map([
  ['✅', 'pass'], ['⛔️', 'fail'], ['⚠️', 'optimal-fail'], ['Y', 'yes'], ['N', 'no'],
  ['🔹', 'setup-fail'], ['⁉️', 'harness-fail'], ['⚪️', 'dependency-fail'],
  ['↻', 'retry'], ['-', 'not-run']
])

function parseArgs (argv) {
  const opts = {}
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '')
    if (!['suite', 'results', 'check', 'update'].includes(name) || argv[i + 1] === undefined) {
      usage(`bad argument ${argv[i]}`)
    }
    opts[name] = argv[i + 1]
  }
  if (!opts.suite || !opts.results) usage('--suite and --results are required')
  if (opts.check && opts.update) usage('--check and --update exclude each other')
  return opts
}

function usage (msg) {
  console.error(`conformance-summary: ${msg}`)
  console.error('usage: node conformance-summary.mjs --suite DIR --results FILE [--check FILE | --update FILE]')
  process.exit(2)
}

// loadSuite imports the suite's test definitions and classifier, with the
// same test list as its CLI runs (tests/index.mjs plus Surrogate-Control).
async function loadSuite (dir) {
  const imp = rel => import(pathToFileURL(path.join(dir, rel)).href)
  const suites = [...(await imp('tests/index.mjs')).default]
  suites.push((await imp('tests/surrogate-control.mjs')).default)
  const display = await imp('lib/display.mjs')
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
  return { suites, display, version: `${pkg.name} ${pkg.version}` }
}

// classify returns one record per test the CLI runs (browser-only tests are
// skipped by the suite's runner, so they are left out here too).
function classify (suites, display, results) {
  const records = []
  for (const suite of suites) {
    for (const test of suite.tests) {
      if (test.browser_only === true) continue
      const symbol = display.determineTestResult(suites, test.id, results)[2]
      const outcome = outcomes.get(symbol) || `unknown(${symbol})`
      const raw = results[test.id]
      records.push({
        id: test.id,
        group: suite.id,
        kind: test.kind || 'required',
        outcome,
        passed: outcome === 'pass' || outcome === 'yes',
        detail: Array.isArray(raw) ? raw.join(': ') : '',
        dependsOn: test.depends_on || []
      })
    }
  }
  return records
}

function tally (records) {
  const passed = records.filter(r => r.passed).length
  const other = {}
  for (const r of records) if (!r.passed) other[r.outcome] = (other[r.outcome] || 0) + 1
  return { passed, total: records.length, other }
}

function printKinds (records) {
  console.log('By kind (the suite\'s own classification):')
  for (const kind of kinds) {
    const t = tally(records.filter(r => r.kind === kind))
    const why = Object.entries(t.other).map(([k, n]) => `${n} ${k}`).join(', ')
    console.log(`  ${kind.padEnd(9)} ${String(t.passed).padStart(3)} of ${String(t.total).padStart(3)} passed` +
      (why ? `   not passed: ${why}` : ''))
  }
  const core = tally(records.filter(r => r.kind === 'required' && r.group !== 'surrogate-control'))
  console.log(`  required without the surrogate-control group: ${core.passed} of ${core.total} passed`)
}

function printGroups (suites, records) {
  console.log('\nBy group (passed/total):')
  console.log(`  ${'group'.padEnd(20)} ${'required'.padStart(9)} ${'optimal'.padStart(9)} ${'check'.padStart(9)}  name`)
  for (const suite of suites) {
    const mine = records.filter(r => r.group === suite.id)
    if (mine.length === 0) continue
    const cols = kinds.map(kind => {
      const t = tally(mine.filter(r => r.kind === kind))
      return (t.total ? `${t.passed}/${t.total}` : '-').padStart(9)
    })
    console.log(`  ${suite.id.padEnd(20)} ${cols.join(' ')}  ${suite.name}`)
  }
}

function printFailingRequired (records) {
  const failing = records.filter(r => r.kind === 'required' && !r.passed)
  console.log(`\nRequired tests not passed (${failing.length}):`)
  for (const r of failing) {
    let why = r.detail
    if (r.outcome === 'dependency-fail') why = `depends on ${r.dependsOn.join(', ')}`
    console.log(`  ${(r.group + '/' + r.id).padEnd(56)} ${r.outcome.padEnd(15)} ${why}`)
  }
}

// passingIds lists the required and optimal tests that passed, sorted.
function passingIds (records) {
  return records.filter(r => r.passed && r.kind !== 'check').map(r => r.id).sort()
}

function readList (file) {
  if (!fs.existsSync(file)) {
    console.error(`conformance: no list of passing tests at ${file}; create it with --update`)
    process.exit(2)
  }
  return fs.readFileSync(file, 'utf8').split('\n').map(s => s.trim()).filter(Boolean)
}

// gate compares the passing ids with the list in file; it returns the exit code.
function gate (records, file) {
  const before = readList(file)
  const now = new Set(passingIds(records))
  const byId = new Map(records.map(r => [r.id, r]))
  const lost = before.filter(id => !now.has(id))
  const beforeSet = new Set(before)
  const gained = [...now].filter(id => !beforeSet.has(id))
  console.log(`\nRegression gate against ${file}: ${before.length} listed, ${lost.length} no longer pass, ${gained.length} newly pass`)
  for (const id of gained) console.log(`  newly passing: ${id} (run scripts/conformance --update to record it)`)
  for (const id of lost) {
    const r = byId.get(id)
    const why = r ? `${r.kind}, ${r.outcome}${r.detail ? ': ' + r.detail : ''}` : 'no such test in this suite version'
    console.log(`  REGRESSION: ${id} (${why})`)
  }
  return lost.length ? 1 : 0
}

const opts = parseArgs(process.argv.slice(2))
const { suites, display, version } = await loadSuite(opts.suite)
let results
try {
  results = JSON.parse(fs.readFileSync(opts.results, 'utf8'))
} catch (err) {
  console.error(`conformance: cannot read results ${opts.results}: ${err.message}`)
  process.exit(2)
}
const records = classify(suites, display, results)
if (Object.keys(results).length === 0) {
  console.error(`conformance: ${opts.results} holds no results`)
  process.exit(2)
}
console.log(`${version}: ${records.length} tests\n`)
printKinds(records)
printGroups(suites, records)
printFailingRequired(records)
let code = 0
if (opts.update) {
  const ids = passingIds(records)
  fs.writeFileSync(opts.update, ids.join('\n') + '\n')
  console.log(`\nWrote ${ids.length} passing required and optimal test ids to ${opts.update}`)
} else if (opts.check) {
  code = gate(records, opts.check)
}
process.exit(code)
