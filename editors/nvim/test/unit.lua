-- The plugin's pure parts, in headless Neovim: reading `tel run --json`, rendering
-- `tel/history`, flattening `tel/timeline` and the two sides of `tel/compareStates`
-- (the same shapes the VS Code extension's unit tests use). Run by editors/test.sh.
local passed, failed = 0, 0
local function test(name, f)
  local ok, err = xpcall(f, debug.traceback)
  if ok then
    passed = passed + 1
    io.stdout:write('ok - ' .. name .. '\n')
  else
    failed = failed + 1
    io.stdout:write('not ok - ' .. name .. '\n' .. tostring(err) .. '\n')
  end
end
local function eq(a, b)
  if not vim.deep_equal(a, b) then
    error(('expected %s\n     got %s'):format(vim.inspect(b), vim.inspect(a)), 2)
  end
end

-- Notifications (":TelFork" reports its answer) would only clutter the output.
vim.notify = function() end

local tel = require('tel')
local dap = require('tel.dap')

test('read_run: the value after the Log lines', function()
  local doc = vim.json.encode({
    value = 3,
    shown = '3',
    run_id = 'h13lhe8a1tq50f7c',
    effects = { { effect = 'Log', args = { 'paid' }, at_ms = 250 }, { effect = 'Deposit', args = { 'alice', 25 }, at_ms = 250 } },
  })
  eq(tel.read_run(0, doc, ''), {
    ok = true,
    summary = '3',
    lines = { '[log @250ms] paid', '[Deposit @250ms] ["alice",25]', '= 3 (run h13lhe8a1tq50f7c)' },
  })
end)

test('read_run: a runtime error with its stack, and a refusal', function()
  local doc = vim.json.encode({
    run_id = 'x',
    effects = {},
    error = { message = 'division by zero', stack = { { name = 'div::ratio', hash = 'aq9e7fggabc', file = 'div.tel', line = 1, column = 35 } } },
  })
  eq(tel.read_run(3, doc, ''), {
    ok = false,
    summary = 'division by zero',
    lines = { 'error: division by zero (run x)', '  at div::ratio #aq9e7fgg div.tel:1:35' },
  })
  local r = tel.read_run(1, '', 'error: cannot run a.tel: 2 error(s) in 1 file(s)\n')
  eq({ r.ok, r.summary }, { false, 'cannot run a.tel: 2 error(s) in 1 file(s)' })
end)

test('render_history: tel store history’s form', function()
  eq(
    tel.render_history({
      name = 'pricing::gross',
      events = {
        { seq = 2, at = 1795325462, action = 'rename', name = 'pricing::gross', old_name = 'shop::with_tax', hash = '7ajt4gqm3973', reason = 'tel store rename' },
        { seq = 1, at = 1795325291, action = 'bind', name = 'shop::with_tax', hash = '3vmgi0maxx', reason = vim.NIL },
      },
    }),
    {
      '// history of pricing::gross, newest first',
      '2026-11-22 05:31:02Z  rename  shop::with_tax -> pricing::gross (#7ajt4gqm)  [tel store rename]',
      '2026-11-22 05:28:11Z  bind    shop::with_tax #3vmgi0ma',
    }
  )
end)

test('timeline: nesting by calls and returns, occurrences numbered', function()
  local entries = dap.flatten({
    entries = {
      { position = 9, kind = 'return', name = 'pay' },
      { position = 0, kind = 'call', name = 'main' },
      { position = 3, kind = 'call', name = 'pay' },
      { position = 5, kind = 'effect', name = 'Deposit', args = { 'alice', 10 } },
      { position = 12, kind = 'effect', name = 'Deposit', args = { 'bob', 20 } },
    },
  })
  eq(
    vim.tbl_map(function(e)
      return { e.position, e.level, e.occurrence }
    end, entries),
    { { 0, 0 }, { 3, 1 }, { 5, 2, 1 }, { 12, 1, 2 } }
  )
end)

test('compare: old and new values side by side, sorted', function()
  local left, right = dap.diff_sides({
    changes = { { kind = 'local', frame = 'main', name = 'total', old = 1, new = 3 }, { kind = 'balance', name = 'alice', old = 0, new = 25 } },
  }, 10, 200)
  eq(left, { '// state at position 10', 'balance alice = 0', 'local main.total = 1' })
  eq(right, { '// state at position 200', 'balance alice = 25', 'local main.total = 3' })
  local same = dap.diff_sides({ changes = {} }, 3, 4)
  eq(same, { 'nothing changed between positions 3 and 4' })
end)

-- `tel dap` is not built yet and nvim-dap comes from no registry, so the commands' UI is
-- driven here through tel.dap.request with the answers the adapter is specified to give.
local function with_adapter(answers, f)
  local saved = dap.request
  local sent = {}
  dap.request = function(method, params, on_result)
    table.insert(sent, { method, params })
    if on_result then
      on_result(answers[method])
    end
  end
  local ok, err = pcall(f, sent)
  dap.request = saved
  if not ok then
    error(err, 0)
  end
end

test(':TelTimeline lists entries; <CR> jumps the session there', function()
  with_adapter({
    ['tel/timeline'] = {
      entries = {
        { position = 0, kind = 'call', name = 'main::main', hash = 'jfl58rc0abc', source = { path = '/p/main.tel' }, line = 24 },
        { position = 7, kind = 'effect', name = 'Deposit', args = { 'alice', 25 }, source = { path = '/p/main.tel' }, line = 26 },
      },
    },
  }, function(sent)
    vim.cmd('TelTimeline')
    local buf = vim.fn.bufnr('tel://timeline')
    eq(vim.api.nvim_buf_get_lines(buf, 0, -1, false), {
      '     0  main::main #jfl58rc0',
      '     7    #1 Deposit("alice", 25)',
    })
    eq(#vim.fn.getqflist(), 2)
    eq(vim.fn.getqflist()[2].lnum, 26)
    vim.api.nvim_set_current_win(vim.fn.bufwinid(buf))
    vim.api.nvim_win_set_cursor(0, { 2, 0 })
    vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes('<CR>', true, false, true), 'x', false)
    eq(sent[#sent], { 'tel/jumpToPosition', { position = 7 } })
    vim.cmd('TelJumpEffect Deposit 2')
    eq(sent[#sent], { 'tel/jumpToEffect', { effect = 'Deposit', occurrence = 2 } })
    vim.cmd('only')
  end)
end)

test(':TelCompare shows the two states as a diff', function()
  with_adapter({
    ['tel/compareStates'] = { changes = { { kind = 'balance', name = 'alice', old = 0, new = 25 } } },
  }, function(sent)
    vim.cmd('TelCompare 10 200')
    eq(sent[1], { 'tel/compareStates', { from = 10, to = 200 } })
    local wins = vim.api.nvim_tabpage_list_wins(0)
    eq(#wins, 2)
    local names, diff = {}, {}
    for _, w in ipairs(wins) do
      table.insert(names, vim.api.nvim_buf_get_name(vim.api.nvim_win_get_buf(w)):match('tel://.*'))
      table.insert(diff, vim.wo[w].diff)
    end
    eq(names, { 'tel://state@10', 'tel://state@200' })
    eq(diff, { true, true })
    eq(vim.api.nvim_buf_get_lines(vim.fn.bufnr('tel://state@200'), 0, -1, false), { '// state at position 200', 'balance alice = 25' })
    vim.cmd('tabclose')
  end)
end)

test(':TelFork sends the position and the override', function()
  with_adapter({}, function(sent)
    vim.cmd('TelFork 12 {"effect": "Observe", "occurrence": 1, "result": 3100}')
    eq(sent[1], { 'tel/fork', { position = 12, override = { effect = 'Observe', occurrence = 1, result = 3100 } } })
  end)
end)

test('commands and the lens commands are registered', function()
  for _, c in ipairs({ 'TelRun', 'TelStore', 'TelHistory', 'TelHash', 'TelTimeline', 'TelJump', 'TelJumpEffect', 'TelCompare', 'TelFork',
    'TelDebug', 'TelStep', 'TelStepIn', 'TelStepOut', 'TelBack', 'TelContinue', 'TelReverseContinue', 'TelBreak', 'TelStop' }) do
    assert(vim.fn.exists(':' .. c) == 2, c)
  end
  for _, c in ipairs({ 'tel.showReferences', 'tel.debug', 'tel.run', 'tel.storeAdd', 'tel.showHistory' }) do
    assert(vim.lsp.commands[c], c)
  end
  assert(vim.lsp.config.tel, 'lsp/tel.lua is not on the runtimepath')
  eq(vim.lsp.config.tel.filetypes, { 'tel' })
  eq(vim.lsp.config.tel.root_markers, { 'tel.toml' })
end)

test('DAP framing: messages split across reads and several in one read', function()
  local debug = require('tel.debug')
  local a = vim.json.encode({ seq = 1, type = 'event', event = 'initialized' })
  local b = vim.json.encode({ seq = 2, type = 'response', request_seq = 1, success = true, command = 'next' })
  local stream = ('Content-Length: %d\r\n\r\n%s'):format(#a, a) .. ('Content-Length: %d\r\n\r\n%s'):format(#b, b)
  -- Every split point: what is complete comes out, the rest waits for the next read.
  for cut = 0, #stream do
    local first, rest = debug.unframe(stream:sub(1, cut))
    local second, left = debug.unframe(rest .. stream:sub(cut + 1))
    local all = vim.list_extend(vim.deepcopy(first), second)
    eq(#all, 2)
    eq({ all[1].event, all[2].command, left }, { 'initialized', 'next', '' })
  end
  -- A multi-byte body: Content-Length counts bytes.
  local c = vim.json.encode({ seq = 3, type = 'event', event = 'output', body = { output = 'ana → ben €' } })
  local got = debug.unframe(('Content-Length: %d\r\n\r\n%s'):format(#c, c))
  eq(got[1].body.output, 'ana → ben €')
end)

test('tel://debug shows the position, the frames and the locals', function()
  local debug = require('tel.debug')
  eq(
    debug.render_lines({
      reason = 'breakpoint',
      description = 'breakpoint 1',
      position = 53,
      end_ = 305,
      frames = { { name = 'main::submit #f1804squ', path = '/p/main.tel', line = 15 }, { name = 'fold [1/3]' } },
      locals = { { name = 'o', type = 'Order', value = 'Order { qty: 4 }' }, { name = 'q', type = 'moved out on its last use', value = '<moved>' } },
      output = {},
    }),
    {
      'stopped (breakpoint: breakpoint 1) at position 53 of 305',
      '',
      'Frames',
      '  ▶0 main::submit #f1804squ  /p/main.tel:15',
      '   1 fold [1/3]',
      '',
      'Locals',
      '  o: Order = Order { qty: 4 }',
      '  q = <moved>',
    }
  )
end)

test('a missing binary is a clear error naming the fix', function()
  tel.setup({ server_path = '/nowhere/tel', enable = false })
  local bin, err = tel.binary()
  eq(bin, nil)
  assert(err:find('server_path is "/nowhere/tel"', 1, true), err)
  tel.setup({ server_path = nil, enable = false })
  local saved = vim.env.PATH
  vim.env.PATH = '/nonexistent'
  bin, err = tel.binary()
  vim.env.PATH = saved
  eq(bin, nil)
  assert(err:find('not on PATH', 1, true) and err:find('cargo install', 1, true), err)
end)

io.stdout:write(('%d passed, %d failed\n'):format(passed, failed))
vim.cmd(failed == 0 and 'qall!' or 'cquit! 1')
