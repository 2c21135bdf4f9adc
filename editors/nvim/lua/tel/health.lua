-- :checkhealth tel
local M = {}

function M.check()
  local h = vim.health
  local tel = require('tel')

  h.start('Neovim')
  if vim.fn.has('nvim-0.11') == 1 then
    h.ok('Neovim ' .. tostring(vim.version()) .. ' (0.11 or newer)')
  else
    h.error('Neovim 0.11 or newer is needed (vim.lsp.config / vim.lsp.enable)', { 'Upgrade Neovim' })
  end
  if vim.filetype.match({ filename = 'x.tel' }) == 'tel' then
    h.ok('*.tel files get filetype `tel`')
  else
    h.error('*.tel files are not detected', { 'Add editors/nvim to runtimepath before plugins load' })
  end

  h.start('tel binary')
  local bin, err = tel.binary()
  if not bin then
    h.error(err or 'tel not found')
    return
  end
  local version = vim.system({ bin, '--version' }, { text = true }):wait()
  if version.code == 0 then
    h.ok(('%s (%s)'):format(bin, vim.trim(version.stdout)))
  else
    h.error(('%s --version failed (exit %d): %s'):format(bin, version.code, vim.trim(version.stderr or '')))
  end
  local cb = tel.env()
  if cb then
    if vim.uv.fs_stat(cb.TEL_CODEBASE) then
      h.ok('codebase: ' .. cb.TEL_CODEBASE)
    else
      h.warn('codebase ' .. cb.TEL_CODEBASE .. ' does not exist yet', { ':TelStore creates it' })
    end
  else
    h.info("codebase: each project's .tel/codebase.sqlite (or $TEL_CODEBASE)")
  end

  h.start('tel lsp')
  if vim.lsp.is_enabled('tel') then
    h.ok('enabled (vim.lsp.enable("tel"))')
  else
    h.warn('not enabled', { 'Call require("tel").setup() or vim.lsp.enable("tel")' })
  end
  local clients = vim.lsp.get_clients({ name = 'tel' })
  for _, c in ipairs(clients) do
    local status = tel.status[c.id]
    h.ok(
      ('client %d: root %s, %d buffer(s), position encoding %s%s'):format(
        c.id,
        c.root_dir or '(single files)',
        vim.tbl_count(c.attached_buffers),
        c.offset_encoding,
        status and (', checked up to change %d'):format(status.generation or 0) or ''
      )
    )
  end
  if #clients == 0 then
    h.info('no client running (open a .tel file)')
  end

  h.start('tel dap')
  if require('tel.dap').available() then
    h.ok('nvim-dap is installed: adapter `tel` registered')
  else
    h.info('nvim-dap is not installed: :TelDebug and the Debug lens use the built-in client (tel.debug)')
  end
  local dap = vim.system({ bin, 'dap' }, { text = true, stdin = '' }):wait()
  if (dap.stderr or ''):find('not built yet') then
    h.warn('`tel dap` is not built into this binary yet: ' .. vim.trim(dap.stderr))
  else
    h.ok('`tel dap` is available')
  end
end

return M
