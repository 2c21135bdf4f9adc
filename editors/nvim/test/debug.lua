-- The built-in debugger client (tel.debug) against the real `tel dap`, in headless Neovim
-- without nvim-dap: :TelDebug on a copy of fixtures/projects/exchange stops at main's entry,
-- a breakpoint set with :TelBreak is reached with :TelContinue, two :TelStep and a :TelBack
-- come back to the earlier line with the same locals and position, the custom requests
-- (:TelTimeline, :TelJump) go through the same session, :TelReverseContinue goes back to an
-- earlier hit, :TelStepIn/:TelStepOut change frames, :TelStop ends the adapter, and a launch
-- the adapter refuses shows its message without throwing, nor does an adapter that dies.
--
-- Run by editors/test.sh:
--   REPO=… TEL_BIN=… nvim --headless --clean --cmd 'set rtp^=REPO/editors/nvim' -c 'luafile …/debug.lua'

local REPO = assert(os.getenv('REPO'), 'REPO is not set')
local TEL = assert(os.getenv('TEL_BIN'), 'TEL_BIN is not set')

local T = dofile(REPO .. '/editors/nvim/test/harness.lua')
local test, eq, contains, wait_for, buf_text = T.test, T.eq, T.contains, T.wait_for, T.buf_text

local messages = {}
vim.notify = function(msg)
  table.insert(messages, msg)
end
local function said(needle)
  for _, m in ipairs(messages) do
    if m:find(needle, 1, true) then
      return true
    end
  end
  return false
end

local proj = T.exchange_copy(REPO)
local tel = require('tel')
-- No language server: the debugger does not need one.
tel.setup({ server_path = TEL, host = proj .. '/host.json', enable = false })
local debug = require('tel.debug')

vim.cmd.edit(proj .. '/main.tel')
local main_buf = vim.api.nvim_get_current_buf()
local source_win = vim.api.nvim_get_current_win()
local ENTRY_LINE = T.line_of(main_buf, 'match quote_within')
local FILL_LINE = T.line_of(main_buf, 'let fill = execute%(o, q%)')

--- Waits for the Nth stop of the session to be shown, returns the state.
local function stop(n)
  wait_for('stop ' .. n, function()
    -- Of this session: a state left by an earlier one does not count.
    return debug.state ~= nil and debug.state.session == debug.session and debug.state.stops == n
  end)
  return debug.state
end

local function locals()
  local out = {}
  for _, v in ipairs(debug.state.locals) do
    out[v.name] = v.value
  end
  return out
end

local function cursor_line()
  return vim.api.nvim_win_get_cursor(source_win)[1]
end

local function marked_line()
  local ns = vim.api.nvim_get_namespaces().tel_debug
  local marks = vim.api.nvim_buf_get_extmarks(main_buf, ns, 0, -1, { details = true })
  eq(#marks, 1, 'stopped-line marks')
  eq(marks[1][4].sign_text, '▶ ', 'sign')
  return marks[1][2] + 1
end

local function debug_text()
  return buf_text(vim.fn.bufnr('tel://debug'))
end

local END

test('without nvim-dap the built-in client runs the session', function()
  eq(require('tel.dap').available(), false, 'nvim-dap available')
end)

test(':TelDebug stops at the entry of main', function()
  vim.cmd('TelDebug')
  local st = stop(1)
  eq(st.reason, 'entry', 'reason')
  eq(st.position, 0, 'position')
  assert(type(st.end_) == 'number' and st.end_ > 0, 'end: ' .. tostring(st.end_))
  END = st.end_
  eq(st.frames[1].name:match('^%S+'), 'main::main', 'top frame')
  eq(cursor_line(), ENTRY_LINE, 'cursor line')
  eq(marked_line(), ENTRY_LINE, 'marked line')
  eq(vim.api.nvim_get_current_win(), source_win, 'current window')
  contains(debug_text(), ('position 0 of %d'):format(END), 'tel://debug')
  contains(debug_text(), 'main::main', 'tel://debug')
end)

test(':TelBreak in submit, :TelContinue stops there with its locals', function()
  vim.api.nvim_win_set_cursor(source_win, { FILL_LINE, 0 })
  vim.cmd('TelBreak')
  local bp_ns = vim.api.nvim_get_namespaces().tel_debug_breakpoints
  eq(#vim.api.nvim_buf_get_extmarks(main_buf, bp_ns, 0, -1, {}), 1, 'breakpoint signs')
  vim.cmd('TelContinue')
  local st = stop(2)
  eq(st.reason, 'breakpoint', 'reason')
  eq(cursor_line(), FILL_LINE, 'cursor line')
  eq(st.frames[1].name:match('^%S+'), 'main::submit', 'top frame')
  local l = locals()
  contains(l.o, 'trader: "ana"', 'o')
  contains(l.q, 'price: 3000', 'q')
  eq(l.fill, nil, 'fill before its let')
end)

test('two :TelStep, then :TelBack: the earlier line, its locals, its position', function()
  vim.cmd('TelStep')
  local first = stop(3)
  local first_line, first_locals = cursor_line(), vim.deepcopy(first.locals)
  assert(first_line > FILL_LINE, ('the first step went to line %d'):format(first_line))
  eq(locals().fill, 'Filled(4, 3000)', 'fill after its let')
  vim.cmd('TelStep')
  local second = stop(4)
  assert(second.position > first.position, 'the second step moved forward')
  assert(cursor_line() > first_line, ('the second step went to line %d'):format(cursor_line()))
  assert(#second.locals > #first_locals, 'the second step has more locals in scope')
  vim.cmd('TelBack')
  local back = stop(5)
  eq(back.position, first.position, 'position after the step back')
  eq(cursor_line(), first_line, 'cursor line after the step back')
  eq(marked_line(), first_line, 'marked line after the step back')
  assert(vim.deep_equal(back.locals, first_locals), 'locals after the step back: ' .. vim.inspect(back.locals))
  contains(debug_text(), ('position %d of %d'):format(first.position, END), 'tel://debug')
  contains(debug_text(), 'fill: Fill = Filled(4, 3000)', 'tel://debug')
end)

test(':TelTimeline and :TelJump go through the built-in session', function()
  vim.cmd('TelTimeline')
  wait_for('tel://timeline', function()
    local b = vim.fn.bufnr('tel://timeline')
    return b ~= -1 and buf_text(b):find('main::submit', 1, true) ~= nil
  end)
  contains(buf_text(vim.fn.bufnr('tel://timeline')), 'Observe', 'tel://timeline')
  vim.api.nvim_set_current_win(source_win)
  vim.cmd('TelJump 0')
  local st = stop(6)
  eq(st.reason, 'goto', 'reason')
  eq(st.position, 0, 'position')
  eq(cursor_line(), ENTRY_LINE, 'cursor line')
end)

test(':TelContinue twice, :TelReverseContinue back to the first hit', function()
  vim.cmd('TelContinue')
  local first = stop(7)
  contains(locals().o, 'trader: "ana"', 'o at the first hit')
  vim.cmd('TelContinue')
  local second = stop(8)
  contains(locals().o, 'trader: "ben"', 'o at the second hit')
  eq(cursor_line(), FILL_LINE, 'cursor line')
  vim.cmd('TelReverseContinue')
  local back = stop(9)
  eq(back.position, first.position, 'position after reverse continue')
  assert(back.position < second.position)
  contains(locals().o, 'trader: "ana"', 'o after reverse continue')
end)

test(':TelStepIn enters execute, :TelStepOut returns to submit', function()
  vim.cmd('TelStepIn')
  local inside = stop(10)
  eq(inside.frames[1].name:match('^%S+'), 'orders::execute', 'frame after step in')
  eq(#inside.frames, 4, 'frames after step in')
  vim.cmd('TelStepOut')
  local out = stop(11)
  eq(out.frames[1].name:match('^%S+'), 'main::submit', 'frame after step out')
  eq(#out.frames, 3, 'frames after step out')
  -- Right after the return: `fill` is bound, what runs next is the statement after it.
  eq(cursor_line(), FILL_LINE + 1, 'the line after the call')
  eq(locals().fill, 'Filled(4, 3000)', 'fill after step out')
end)

test(':TelStop ends the session and the adapter', function()
  local s = assert(debug.session)
  vim.cmd('TelStop')
  eq(debug.session, nil, 'session')
  wait_for('tel dap to exit', function()
    return s.proc:is_closing()
  end)
  local ns = vim.api.nvim_get_namespaces().tel_debug
  eq(#vim.api.nvim_buf_get_extmarks(main_buf, ns, 0, -1, {}), 0, 'stopped-line marks left')
end)

test('a motion without a session says so', function()
  local ok, err = pcall(vim.cmd, 'TelBack')
  assert(ok, err)
  assert(said('no debug session'), vim.inspect(messages))
end)

test('a launch the adapter refuses shows its message and does not throw', function()
  debug.last_error = nil
  local ok, err = pcall(vim.cmd, 'TelDebug nope')
  assert(ok, err)
  wait_for('the launch to be refused', function()
    return debug.last_error ~= nil
  end)
  contains(debug.last_error, 'no definition `nope`', 'error')
  assert(said('tel: cannot debug: no definition `nope`'), vim.inspect(messages))
  eq(debug.session, nil, 'session after a refused launch')
end)

test('the Debug lens’s launch (tel.dap.launch) uses the built-in client too', function()
  require('tel.dap').launch({ program = proj .. '/main.tel', entry = 'main' })
  local st = stop(1)
  eq(st.reason, 'entry', 'reason')
  eq(cursor_line(), ENTRY_LINE, 'cursor line')
  vim.cmd('TelStop')
end)

test('an adapter that dies ends the session with a message', function()
  require('tel.dap').launch({ program = proj .. '/main.tel', entry = 'main' })
  stop(1)
  local s = assert(debug.session)
  s.proc:kill(9)
  wait_for('the session to end', function()
    return debug.session == nil
  end)
  assert(said('`tel dap` exited'), vim.inspect(messages))
  local ok, err = pcall(vim.cmd, 'TelStep')
  assert(ok, err)
end)

T.finish()
