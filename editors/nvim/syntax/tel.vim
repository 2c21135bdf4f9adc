" TEL syntax for Neovim without a language server attached (semantic tokens from `tel lsp`
" refine it). The authoritative grammar is docs/grammar.ebnf; the TextMate grammar used by
" VS Code is syntaxes/tel.tmLanguage.json.
if exists('b:current_syntax')
  finish
endif

syn keyword telConditional if else match
syn keyword telEffectKw perform handle with resume abort
syn keyword telTemporal within after
syn keyword telKeyword let module use pub
syn keyword telReserved evolve
syn keyword telStorage fn type enum effect schema
syn keyword telBoolean true false
syn keyword telBuiltinType Int Bool String Duration Hash List Map
syn keyword telOption Some None

syn match telType /\<[A-Z][A-Za-z0-9_]*\>/
syn match telFunction /\<[a-z_][A-Za-z0-9_]*\ze\s*(/
syn match telNamespace /\<[a-z_][A-Za-z0-9_]*\ze\s*::/

syn match telNumber /\<[0-9][0-9_]*\>/
syn match telNumber /\<0x[0-9A-Fa-f][0-9A-Fa-f_]*\>/
syn match telDuration /\<[0-9][0-9_]*\(ms\|s\|min\|h\|d\)\>/
syn match telHash /#[0-9a-v]\{4,52}\(\.[0-9]\+\)\?\>/

syn match telEscape /\\\([nt"\\]\|u{[0-9A-Fa-f]\{1,6}}\)/ contained
syn region telString start=/"/ skip=/\\\\\|\\"/ end=/"\|$/ contains=telEscape

syn region telBlockComment start=#/\*# end=#\*/# contains=telBlockComment,@Spell
syn match telLineComment #//.*$# contains=@Spell
syn match telDocComment #///\([^/].*\)\?$# contains=@Spell

hi def link telConditional Conditional
hi def link telEffectKw Keyword
hi def link telTemporal Repeat
hi def link telKeyword Keyword
hi def link telReserved Error
hi def link telStorage StorageClass
hi def link telBoolean Boolean
hi def link telBuiltinType Type
hi def link telOption Constant
hi def link telType Type
hi def link telFunction Function
hi def link telNamespace Include
hi def link telNumber Number
hi def link telDuration Number
hi def link telHash Special
hi def link telEscape SpecialChar
hi def link telString String
hi def link telBlockComment Comment
hi def link telLineComment Comment
hi def link telDocComment SpecialComment

let b:current_syntax = 'tel'
