//! A timing in words, for lists and previews: "Every weekday at 09:00, Europe/Berlin".

use jiff::civil::{DateTime, Weekday};

use super::timing::{End, MonthDay, Repeat, Timing, Weekdays};

/// The timing as a person would say it.
pub fn describe(timing: &Timing) -> String {
    let start = timing.start();
    let at = clock(start);
    let zone = timing.zone_name();
    let every = |n: u16, one: &str, many: &str| {
        if n == 1 {
            format!("Every {one}")
        } else {
            format!("Every {n} {many}")
        }
    };
    let rule = match timing.repeat() {
        Repeat::Once => return format!("Once, {} at {at}, {zone}", start.date()),
        Repeat::Days { every: n } => every(n, "day", "days"),
        Repeat::Weeks { every: 1, on } if on == Weekdays::WORKDAYS => "Every weekday".into(),
        Repeat::Weeks { every: n, on } => {
            format!("{} on {}", every(n, "week", "weeks"), day_list(on))
        }
        Repeat::Months {
            every: n,
            on: MonthDay::LastDay,
        } => format!("{} on the last day", every(n, "month", "months")),
        Repeat::Months {
            every: n,
            on: MonthDay::StartDay,
        } => format!("{} on day {}", every(n, "month", "months"), start.day()),
        Repeat::Years { every: n } => format!(
            "{} on {} {}",
            every(n, "year", "years"),
            start.day(),
            month_name(start.month())
        ),
    };
    let end = match timing.end() {
        End::Never => String::new(),
        End::Until(d) => format!(", until {d}"),
        End::After(n) => format!(", {n} times"),
    };
    format!("{rule} at {at}, {zone}{end}")
}

fn clock(t: DateTime) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

fn day_list(days: Weekdays) -> String {
    days.iter().map(short).collect::<Vec<_>>().join(", ")
}

pub(crate) fn short(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "Mon",
        Weekday::Tuesday => "Tue",
        Weekday::Wednesday => "Wed",
        Weekday::Thursday => "Thu",
        Weekday::Friday => "Fri",
        Weekday::Saturday => "Sat",
        Weekday::Sunday => "Sun",
    }
}

fn month_name(month: i8) -> &'static str {
    const NAMES: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    usize::try_from(month - 1)
        .ok()
        .and_then(|i| NAMES.get(i))
        .copied()
        .unwrap_or("?")
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn t(repeat: Repeat, end: End) -> Timing {
        Timing::new(
            "Europe/Berlin",
            date(2026, 3, 2).at(9, 0, 0, 0),
            repeat,
            end,
        )
        .unwrap()
    }

    #[test]
    fn says_it_like_a_person() {
        assert_eq!(
            describe(&t(
                Repeat::Weeks {
                    every: 1,
                    on: Weekdays::WORKDAYS
                },
                End::Never
            )),
            "Every weekday at 09:00, Europe/Berlin"
        );
        assert_eq!(
            describe(&t(
                Repeat::Weeks {
                    every: 2,
                    on: Weekdays::parse_list("mon,thu").unwrap()
                },
                End::After(4)
            )),
            "Every 2 weeks on Mon, Thu at 09:00, Europe/Berlin, 4 times"
        );
        assert_eq!(
            describe(&t(Repeat::Once, End::Never)),
            "Once, 2026-03-02 at 09:00, Europe/Berlin"
        );
        assert_eq!(
            describe(&t(
                Repeat::Months {
                    every: 1,
                    on: MonthDay::LastDay
                },
                End::Until(date(2026, 12, 31))
            )),
            "Every month on the last day at 09:00, Europe/Berlin, until 2026-12-31"
        );
        assert_eq!(
            describe(&t(Repeat::Years { every: 1 }, End::Never)),
            "Every year on 2 March at 09:00, Europe/Berlin"
        );
    }
}
