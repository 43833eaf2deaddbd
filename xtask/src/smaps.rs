//! A process's memory by mapping, from `/proc/PID/smaps`: what `measure` and `measure-serve`
//! print so a change shows where the megabytes went (code pages of a library, its dirty
//! relocations, the heap, anonymous maps).

/// One mapped file (or the heap, the stack, anonymous memory), all its mappings summed; kB.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mapping {
    pub name: String,
    pub rss: u64,
    pub pss: u64,
    /// Pages private to the process: anonymous memory, and in a file mapping the pages
    /// written since it was mapped (relocations, statics).
    pub anonymous: u64,
    pub private_dirty: u64,
}

/// Every mapping of `pid` by name, biggest PSS first.
pub fn by_mapping(pid: u32) -> Vec<Mapping> {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    parse(&smaps)
}

fn parse(smaps: &str) -> Vec<Mapping> {
    let mut all: Vec<Mapping> = Vec::new();
    let mut current = 0usize;
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let Some(first) = fields.next() else { continue };
        if first.contains('-') && first.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
            // A mapping's header: range, permissions, offset, device, inode, then the path.
            let path: Vec<&str> = fields.skip(4).collect();
            let name = if path.is_empty() {
                "[anonymous]".to_owned()
            } else {
                path.join(" ")
            };
            current = match all.iter().position(|m| m.name == name) {
                Some(i) => i,
                None => {
                    all.push(Mapping {
                        name,
                        ..Mapping::default()
                    });
                    all.len() - 1
                }
            };
            continue;
        }
        let kb = fields
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        let Some(m) = all.get_mut(current) else {
            continue;
        };
        match first {
            "Rss:" => m.rss += kb,
            "Pss:" => m.pss += kb,
            "Anonymous:" => m.anonymous += kb,
            "Private_Dirty:" => m.private_dirty += kb,
            _ => {}
        }
    }
    all.sort_by_key(|m| std::cmp::Reverse(m.pss));
    all
}

/// Prints the `top` biggest mappings, one line each, indented.
pub fn print_top(pid: u32, top: usize) {
    for m in by_mapping(pid).into_iter().take(top) {
        println!(
            "      PSS {:>6.1} MB  RSS {:>6.1}  anon {:>5.1}  dirty {:>5.1}  {}",
            m.pss as f64 / 1024.0,
            m.rss as f64 / 1024.0,
            m.anonymous as f64 / 1024.0,
            m.private_dirty as f64 / 1024.0,
            m.name
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_mappings_by_name() {
        let text = "\
55d0-55e0 r--p 00000000 fd:01 42 /usr/bin/app
Rss:                 400 kB
Pss:                 300 kB
Anonymous:             0 kB
Private_Dirty:         0 kB
55e0-55f0 rw-p 00010000 fd:01 42 /usr/bin/app
Rss:                  20 kB
Pss:                  20 kB
Anonymous:            20 kB
Private_Dirty:        20 kB
5600-5700 rw-p 00000000 00:00 0 [heap]
Rss:                 900 kB
Pss:                 900 kB
Anonymous:           900 kB
Private_Dirty:       900 kB
7f00-7f10 rw-p 00000000 00:00 0
Rss:                   8 kB
Pss:                   8 kB
";
        let all = parse(text);
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].name, "[heap]");
        assert_eq!(
            all[1],
            Mapping {
                name: "/usr/bin/app".into(),
                rss: 420,
                pss: 320,
                anonymous: 20,
                private_dirty: 20
            }
        );
        assert_eq!(all[2].name, "[anonymous]");
    }
}
