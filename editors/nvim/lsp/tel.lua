-- `tel lsp` for Neovim 0.11+: picked up by `vim.lsp.config('tel', …)` / `vim.lsp.enable('tel')`.
-- Override any field with `vim.lsp.config('tel', { … })`; `require('tel').setup()` does the
-- common ones (binary, codebase, inlay hints) and enables it.
local tel = require('tel')

---@type vim.lsp.Config
return {
  -- Resolved when the server starts, so that a binary installed later is found.
  cmd = function(dispatchers)
    local bin, err = tel.binary()
    if not bin then
      vim.notify(err, vim.log.levels.ERROR)
      error(err, 0)
    end
    return vim.lsp.rpc.start({ bin, 'lsp' }, dispatchers, { env = tel.env() })
  end,
  filetypes = { 'tel' },
  -- The workspace is the folder with tel.toml; a file outside any project is checked alone.
  root_markers = { 'tel.toml' },
  -- `tel-store://` buffers are read-only views served by the server, not files of the
  -- workspace (lsp.enable skips them anyway: their buftype is nofile).
  settings = { tel = tel.server_settings() },
  init_options = { tel = tel.server_settings() },
  handlers = {
    ['tel/status'] = function(_, params, ctx)
      tel.on_status(ctx.client_id, params)
    end,
  },
  on_attach = function(client, bufnr)
    tel.on_attach(client, bufnr)
  end,
}
