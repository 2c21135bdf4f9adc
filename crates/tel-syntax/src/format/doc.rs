//! The layout language and its printer: a flat stream of commands (text, line breaks,
//! group and indentation brackets) in the style of Oppen's pretty printer, extended with
//! two group modes from prettier (a "hugged" last element and "fill" lines).
//!
//! A group prints flat — every line inside it a space or nothing — when its flat width and
//! the text after it up to the next possible line break fit in [`MAX_WIDTH`]; otherwise
//! its own lines break. A hard break (a line comment, a block with statements) inside a
//! group forces it and every enclosing group to break. The printer decides each group
//! once, from the stream alone, which is what makes formatting idempotent: the same
//! stream prints the same text.

/// The widest line the formatter aims for, in characters.
pub(crate) const MAX_WIDTH: u32 = 100;

/// Spaces per indentation level.
const INDENT: u32 = 4;

/// Width of something that can never be flat.
const NEVER: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmd {
    /// `len` bytes of the source at `start`: a token or a comment, in ASCII and on one
    /// line, so its width is `len`.
    Text {
        start: u32,
        len: u32,
    },
    /// Any other text: with characters beyond ASCII (in a string or a comment), or a
    /// block comment spanning lines.
    Wide {
        start: u32,
        len: u32,
    },
    /// One space; merged with an adjacent space, dropped at a line break.
    Space,
    /// A space when its group is flat, a line break otherwise.
    Line,
    /// Nothing when its group is flat, a line break otherwise.
    SoftLine,
    /// Always a line break.
    HardLine,
    /// Always a line break with one empty line.
    BlankLine,
    /// Opens the group with this index in [`Doc::groups`].
    Begin(u32),
    End,
    /// Lines after this break one level deeper, until the matching [`Cmd::Dedent`].
    Indent,
    Dedent,
    /// A `,` printed only when the enclosing group breaks (trailing commas).
    IfBreakComma,
    /// Marks where the last element of a hugging group starts.
    HugPoint,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GroupKind {
    /// Flat if it fits, else every line of the group breaks.
    Normal,
    /// Always broken.
    Forced,
    /// Always broken because the author broke it (an object-like list with a line break
    /// after its opening bracket). Where an operator chain measures what follows a
    /// line, it counts as the width it would have flat, as it did when the break was the
    /// layout's: so the chain breaks the same way in both runs.
    Kept,
    /// Flat if it fits; else, if everything up to the first possible break inside the
    /// last element fits, the group's own lines stay flat and its own indentation is not
    /// applied, so the last element (a lambda with a block, a record) breaks in place:
    /// `fold(xs, 0, |acc, x| {` … `})`. Otherwise broken.
    Hug,
    /// Flat if it fits; else each line breaks only if what follows it, up to the group's
    /// next line, does not fit (long operator chains).
    Fill,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Group {
    pub(crate) kind: GroupKind,
    /// Index of the matching [`Cmd::End`].
    end: u32,
    /// Width when flat, or [`NEVER`] when it contains a hard break or a kept group.
    flat: u32,
    /// Width when flat with kept groups flat too, or [`NEVER`] when it contains a hard break.
    natural: u32,
    /// Width of the text after the group up to the next possible line break.
    after: u32,
    /// For [`GroupKind::Hug`]: width from the group's start to the first possible line
    /// break inside its last element, or [`NEVER`].
    hug: u32,
    /// Width from the start of the group, and from its hug point, to the first possible
    /// line break.
    head: u32,
    hug_rest: u32,
}

impl Group {
    pub(crate) fn new(kind: GroupKind) -> Group {
        Group {
            kind,
            end: 0,
            flat: NEVER,
            natural: NEVER,
            after: 0,
            hug: NEVER,
            head: 0,
            hug_rest: NEVER,
        }
    }
}

/// A layout ready to print: commands, the groups they open, and the source text that
/// [`Cmd::Text`] points into.
pub(crate) struct Doc<'s> {
    pub(crate) source: &'s str,
    pub(crate) cmds: Vec<Cmd>,
    pub(crate) groups: Vec<Group>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Flat,
    Break,
    Hug,
    Fill,
}

fn text_width(text: &str) -> u32 {
    if text.is_ascii() { text.len() as u32 } else { text.chars().count() as u32 }
}

impl Doc<'_> {
    fn text(&self, start: u32, len: u32) -> &str {
        &self.source[start as usize..(start + len) as usize]
    }

    /// Width of a [`Cmd::Wide`] text up to its first line break, and whether it has one
    /// (a block comment spanning lines).
    fn wide_measure(&self, start: u32, len: u32) -> (u32, bool) {
        let text = self.text(start, len);
        match text.find('\n') {
            Some(nl) => (text_width(&text[..nl]), true),
            None => (text_width(text), false),
        }
    }

    /// Fills in every group's widths: a backward pass for the distances to the next
    /// possible line break, a forward pass for flat widths.
    fn measure(&mut self) {
        // width from the current command to the next possible line break
        let mut rest = 0u32;
        let mut line_follows = true;
        // per group open in the backward walk: `after` and the rest at its hug point
        let mut open: Vec<(u32, u32)> = Vec::new();
        for i in (0..self.cmds.len()).rev() {
            match self.cmds[i] {
                Cmd::Text { len, .. } => {
                    line_follows = false;
                    rest = rest.saturating_add(len);
                }
                Cmd::Wide { start, len } => {
                    line_follows = false;
                    let (w, multiline) = self.wide_measure(start, len);
                    rest = if multiline { w } else { w.saturating_add(rest) };
                }
                // a space before a line break is never printed
                Cmd::Space if line_follows => {}
                Cmd::Space | Cmd::IfBreakComma => {
                    line_follows = false;
                    rest = rest.saturating_add(1);
                }
                Cmd::Line | Cmd::SoftLine | Cmd::HardLine | Cmd::BlankLine => {
                    line_follows = true;
                    rest = 0;
                }
                Cmd::End => open.push((rest, NEVER)),
                Cmd::Begin(g) => {
                    let group = &mut self.groups[g as usize];
                    if let Some((after, hug_rest)) = open.pop() {
                        group.after = after;
                        group.hug_rest = hug_rest;
                    }
                    group.head = rest;
                }
                Cmd::HugPoint => {
                    if let Some(top) = open.last_mut() {
                        top.1 = rest;
                    }
                }
                Cmd::Indent | Cmd::Dedent => {}
            }
        }

        struct Open {
            group: u32,
            start: u64,
            /// Holds a hard break; holds a kept group.
            hard: bool,
            kept: bool,
        }
        let mut stack: Vec<Open> = Vec::new();
        // running flat width of everything so far (u64: never overflows)
        let mut at: u64 = 0;
        for i in 0..self.cmds.len() {
            let mut hard = false;
            match self.cmds[i] {
                Cmd::Text { len, .. } => at += u64::from(len),
                Cmd::Wide { start, len } => {
                    let (w, multiline) = self.wide_measure(start, len);
                    at += u64::from(w);
                    hard = multiline;
                }
                Cmd::Space | Cmd::Line => at += 1,
                Cmd::SoftLine | Cmd::IfBreakComma | Cmd::Indent | Cmd::Dedent => {}
                Cmd::HardLine | Cmd::BlankLine => hard = true,
                Cmd::Begin(g) => {
                    let kind = self.groups[g as usize].kind;
                    let (hard, kept) = (kind == GroupKind::Forced, kind == GroupKind::Kept);
                    stack.push(Open { group: g, start: at, hard, kept });
                }
                Cmd::End => {
                    if let Some(open) = stack.pop() {
                        let group = &mut self.groups[open.group as usize];
                        group.end = i as u32;
                        let width = u32::try_from(at - open.start).unwrap_or(NEVER);
                        group.natural = if open.hard { NEVER } else { width };
                        group.flat = if open.hard || open.kept { NEVER } else { width };
                        if let Some(parent) = stack.last_mut() {
                            parent.hard |= open.hard;
                            parent.kept |= open.kept;
                        }
                    }
                }
                Cmd::HugPoint => {
                    if let Some(open) = stack.last() {
                        let group = &mut self.groups[open.group as usize];
                        group.hug = if open.hard || open.kept || group.hug_rest == NEVER {
                            NEVER
                        } else {
                            u32::try_from(at - open.start)
                                .unwrap_or(NEVER)
                                .saturating_add(group.hug_rest)
                        };
                    }
                }
            }
            if hard && let Some(open) = stack.last_mut() {
                open.hard = true;
            }
        }
    }

    /// Width of what follows the fill line at `i`, up to the fill group's next line or
    /// its end (then including what comes after the group).
    fn fill_segment(&self, i: usize, fill: u32) -> u32 {
        let mut width = 0u32;
        let mut j = i + 1;
        while j < self.cmds.len() {
            match self.cmds[j] {
                Cmd::Text { len, .. } => width = width.saturating_add(len),
                Cmd::Wide { start, len } => {
                    let (w, multiline) = self.wide_measure(start, len);
                    width = width.saturating_add(w);
                    if multiline {
                        return width;
                    }
                }
                Cmd::Space | Cmd::IfBreakComma => width = width.saturating_add(1),
                Cmd::Line | Cmd::SoftLine | Cmd::HardLine | Cmd::BlankLine => return width,
                Cmd::Begin(g) => {
                    let group = &self.groups[g as usize];
                    if group.natural == NEVER {
                        return width.saturating_add(group.head);
                    }
                    width = width.saturating_add(group.natural);
                    j = group.end as usize;
                }
                Cmd::End => {
                    return width.saturating_add(self.groups[fill as usize].after);
                }
                Cmd::Indent | Cmd::Dedent | Cmd::HugPoint => {}
            }
            j += 1;
        }
        width
    }

    /// The text, and how many trailing commas it gained (for the caller's check).
    pub(crate) fn print(mut self) -> (String, usize) {
        self.measure();
        let mut commas = 0;
        let mut p = Printer {
            out: String::with_capacity(self.source.len() + self.source.len() / 8),
            col: 0,
            newlines: 0,
            newline_indent: 0,
            space: false,
            started: false,
        };
        // the file level behaves as a broken group
        let mut modes: Vec<Frame> = Vec::new();
        let mut indents: Vec<u32> = vec![0];
        for i in 0..self.cmds.len() {
            let mode = modes.last().map_or(Mode::Break, |f| f.mode);
            let indent = *indents.last().unwrap_or(&0);
            match self.cmds[i] {
                Cmd::Text { start, len } => p.ascii(self.text(start, len)),
                Cmd::Wide { start, len } => p.text(self.text(start, len)),
                Cmd::Space => p.space(),
                Cmd::Line | Cmd::SoftLine => {
                    let soft = self.cmds[i] == Cmd::SoftLine;
                    let flat = match mode {
                        Mode::Flat | Mode::Hug => true,
                        Mode::Break => false,
                        Mode::Fill => {
                            let fill = modes.last().map_or(0, |f| f.group);
                            let lead = u32::from(!soft);
                            p.column()
                                .saturating_add(lead)
                                .saturating_add(self.fill_segment(i, fill))
                                <= MAX_WIDTH
                        }
                    };
                    if !flat {
                        let indent = fill_break(&mut modes, &mut indents);
                        p.newline(1, indent);
                    } else if !soft {
                        p.space();
                    }
                }
                Cmd::HardLine => {
                    let indent = fill_break(&mut modes, &mut indents);
                    p.newline(1, indent);
                }
                Cmd::BlankLine => {
                    let indent = fill_break(&mut modes, &mut indents);
                    p.newline(2, indent);
                }
                Cmd::Begin(g) => {
                    let group = self.groups[g as usize];
                    let chosen = if mode == Mode::Flat {
                        Mode::Flat
                    } else {
                        let col = p.column();
                        let fits = |w: u32| col.saturating_add(w) <= MAX_WIDTH;
                        if group.flat != NEVER && fits(group.flat.saturating_add(group.after)) {
                            Mode::Flat
                        } else {
                            match group.kind {
                                GroupKind::Hug if group.hug != NEVER && fits(group.hug) => {
                                    Mode::Hug
                                }
                                GroupKind::Fill => Mode::Fill,
                                _ => Mode::Break,
                            }
                        }
                    };
                    modes.push(Frame { group: g, mode: chosen, fill_indent: None });
                }
                Cmd::End => {
                    modes.pop();
                }
                Cmd::Indent => {
                    // a hugging group keeps its element at the indentation of its line; a
                    // fill group indents from its first break on
                    let deeper = !matches!(mode, Mode::Hug | Mode::Fill);
                    indents.push(if deeper { indent + INDENT } else { indent });
                    if let Some(frame) = modes.last_mut()
                        && frame.mode == Mode::Fill
                        && frame.fill_indent.is_none()
                    {
                        frame.fill_indent = Some((indents.len() - 1, false));
                    }
                }
                Cmd::Dedent => {
                    if indents.len() > 1 {
                        indents.pop();
                    }
                }
                Cmd::IfBreakComma => {
                    if mode == Mode::Break {
                        p.ascii(",");
                        commas += 1;
                    }
                }
                Cmd::HugPoint => {}
            }
        }
        if p.started {
            p.out.push('\n');
        }
        (p.out, commas)
    }
}

/// The indentation of a line break: a fill group's continuation indent starts at its
/// first break, so a block inside an unbroken chain is indented as if it were alone.
fn fill_break(modes: &mut [Frame], indents: &mut [u32]) -> u32 {
    if let Some(Frame { fill_indent: Some((at, broken)), .. }) = modes.last_mut()
        && !*broken
        && *at + 1 == indents.len()
    {
        *broken = true;
        indents[*at] += INDENT;
    }
    *indents.last().unwrap_or(&0)
}

/// An open group as printed.
struct Frame {
    group: u32,
    mode: Mode,
    /// For a fill group: its indentation level (an index into the printer's stack) and
    /// whether it has been deepened by a first break.
    fill_indent: Option<(usize, bool)>,
}

/// Writes text, deferring spaces and line breaks until the next text: no trailing
/// whitespace, and consecutive breaks merge (the larger wins).
struct Printer {
    out: String,
    col: u32,
    /// Line breaks owed before the next text (0, 1 or 2).
    newlines: u8,
    newline_indent: u32,
    space: bool,
    /// Whether any text was written: breaks at the very start are dropped.
    started: bool,
}

impl Printer {
    /// The column the next text would start at.
    fn column(&self) -> u32 {
        if self.newlines > 0 { self.newline_indent } else { self.col + u32::from(self.space) }
    }

    fn space(&mut self) {
        if self.started && self.newlines == 0 {
            self.space = true;
        }
    }

    fn newline(&mut self, n: u8, indent: u32) {
        if !self.started {
            return;
        }
        self.newlines = self.newlines.max(n);
        self.newline_indent = indent;
        self.space = false;
    }

    /// Text known to be ASCII and on one line.
    fn ascii(&mut self, text: &str) {
        self.flush();
        self.out.push_str(text);
        self.col += text.len() as u32;
    }

    fn text(&mut self, text: &str) {
        self.flush();
        self.out.push_str(text);
        match text.rfind('\n') {
            Some(nl) => self.col = text_width(&text[nl + 1..]),
            None => self.col += text_width(text),
        }
    }

    /// Writes the line breaks or the space owed before the next text.
    fn flush(&mut self) {
        if self.newlines > 0 {
            const SPACES: &str = "                                                                ";
            for _ in 0..self.newlines {
                self.out.push('\n');
            }
            let mut indent = self.newline_indent as usize;
            while indent > 0 {
                let n = indent.min(SPACES.len());
                self.out.push_str(&SPACES[..n]);
                indent -= n;
            }
            self.col = self.newline_indent;
            self.newlines = 0;
        } else if self.space {
            self.out.push(' ');
            self.col += 1;
        }
        self.space = false;
        self.started = true;
    }
}
