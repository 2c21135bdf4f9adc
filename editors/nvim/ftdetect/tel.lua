vim.filetype.add({ extension = { tel = 'tel' } })
