-- TEL: user commands, `tel-store://` documents and the lens commands. The language server
-- itself is lsp/tel.lua (enable it with require('tel').setup() or vim.lsp.enable('tel')).
if vim.g.loaded_tel then
  return
end
vim.g.loaded_tel = true

if vim.fn.has('nvim-0.11') == 0 then
  vim.notify('tel: this plugin needs Neovim 0.11 or newer', vim.log.levels.WARN)
  return
end

local function tel()
  return require('tel')
end
local function dap()
  return require('tel.dap')
end

local cmd = vim.api.nvim_create_user_command

cmd('TelRun', function(o)
  -- :TelRun [ENTRY] [ARGS-JSON]
  local entry, args = o.args:match('^%s*(%S*)%s*(.-)%s*$')
  tel().run({ entry = entry ~= '' and entry or nil, args = args ~= '' and args or nil })
end, { nargs = '*', desc = 'Run an entry point of this file (the function under the cursor, else main)' })

cmd('TelStore', function()
  tel().store()
end, { desc = 'Store the definitions of this file in the codebase (tel store add)' })

cmd('TelHistory', function(o)
  tel().history(o.args ~= '' and o.args or nil)
end, { nargs = '?', desc = "A name's history in the codebase" })

cmd('TelHash', function()
  tel().hash()
end, { desc = 'The hash of the definition under the cursor (copied to the " register)' })

-- The debugger: nvim-dap's session when nvim-dap is installed, else the built-in client
-- (tel.debug). Both speak to `tel dap`.
local function nvim_dap()
  return dap().available() and require('dap') or nil
end

cmd('TelDebug', function(o)
  -- :TelDebug [ENTRY]
  local entry = vim.trim(o.args)
  dap().launch({ entry = entry ~= '' and entry or 'main', stopOnEntry = true })
end, { nargs = '?', desc = 'Debug main (or ENTRY) of this file, stopped at its entry' })

for name, m in pairs({
  TelStep = { 'next', 'step_over', 'Step over to the next statement' },
  TelStepIn = { 'stepIn', 'step_into', 'Step into the call' },
  TelStepOut = { 'stepOut', 'step_out', 'Step out of this frame' },
  TelBack = { 'stepBack', 'step_back', 'Step back to the previous statement' },
  TelContinue = { 'continue', 'continue', 'Continue to the next breakpoint (or the end)' },
  TelReverseContinue = { 'reverseContinue', 'reverse_continue', 'Continue backward to the previous breakpoint (or the start)' },
}) do
  cmd(name, function()
    local d = nvim_dap()
    if d then
      d[m[2]]()
    else
      require('tel.debug').motion(m[1])
    end
  end, { desc = m[3] })
end

cmd('TelBreak', function()
  local d = nvim_dap()
  if d then
    d.toggle_breakpoint()
  else
    require('tel.debug').toggle_breakpoint()
  end
end, { desc = 'Toggle a breakpoint on this line' })

cmd('TelStop', function()
  local d = nvim_dap()
  if d then
    d.terminate()
  else
    require('tel.debug').stop()
  end
end, { desc = 'End the debug session' })

cmd('TelTimeline', function()
  dap().timeline()
end, { desc = 'The debug session’s calls and effects; <CR> jumps there' })

cmd('TelJump', function(o)
  dap().jump_to_position(tonumber(o.args))
end, { nargs = 1, desc = 'Jump the debug session to a position (step index)' })

cmd('TelJumpEffect', function(o)
  -- :TelJumpEffect Deposit 2
  local effect, occurrence = o.args:match('^%s*(%S+)%s*(%d*)%s*$')
  if not effect then
    vim.notify('tel: usage: :TelJumpEffect EFFECT [OCCURRENCE]', vim.log.levels.ERROR)
    return
  end
  dap().jump_to_effect(effect, tonumber(occurrence) or 1)
end, { nargs = '+', desc = 'Jump the debug session to the Nth occurrence of an effect' })

cmd('TelCompare', function(o)
  -- :TelCompare 10 200
  local from, to = o.args:match('^%s*(%d+)%s+(%d+)%s*$')
  if not from then
    vim.notify('tel: usage: :TelCompare FROM TO (positions)', vim.log.levels.ERROR)
    return
  end
  dap().compare(tonumber(from), tonumber(to))
end, { nargs = '+', desc = 'Compare the state at two positions (a diff)' })

cmd('TelFork', function(o)
  -- :TelFork POSITION {"effect": "Observe", "occurrence": 1, "result": 3100}
  local position, override = o.args:match('^%s*(%d+)%s+(.+)$')
  if not position then
    vim.notify('tel: usage: :TelFork POSITION OVERRIDE-JSON', vim.log.levels.ERROR)
    return
  end
  dap().fork(tonumber(position), override)
end, { nargs = '+', desc = 'Fork the run from a position with a different effect answer' })

local group = vim.api.nvim_create_augroup('tel', { clear = true })

vim.api.nvim_create_autocmd('BufReadCmd', {
  group = group,
  pattern = 'tel-store://*',
  callback = function(ev)
    tel().read_store_buffer(ev.buf, ev.match)
  end,
})

-- nvim-dap's adapter, once something TEL is opened (and only if nvim-dap is installed).
vim.api.nvim_create_autocmd('FileType', {
  group = group,
  pattern = 'tel',
  once = true,
  callback = function()
    dap().setup()
  end,
})

tel().register_lsp_commands()
