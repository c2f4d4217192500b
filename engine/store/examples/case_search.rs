//! Finding a case among a million on SQLite: the typical searches of the API and the search
//! page, each asked many times with other values, timed one by one.
//!
//! `cargo run --release -p reglament-store --example case_search -- [CASES] [QUERIES]`
//!
//! CASES (default 1,000,000) cases are written straight into the projections a search reads
//! (`cases`, `case_offices`, `case_keys`; no events: a search never reads the log), by SQL
//! from a few small tables, so filling takes seconds: 20 offices, every tenth case handed over
//! to one of 3 akimats as well, 9 regulations, the last tenth open, one in 50 cancelled, one
//! in 13 breached, two registered per minute; applicants named from 400 first names and 2,500
//! surnames (Kazakh and Russian, with Kazakh letters), each with a distinct ИИН. Then QUERIES
//! (default 300) searches of each kind, each with its own random values, are timed (wall
//! time of `Store::search_cases`, as the server calls it) and the median, p99 and maximum and
//! the process CPU time per search printed, with each kind's `EXPLAIN QUERY PLAN`.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use reglament_store::search::{CaseSearch, Scope, StatusFilter, words};
use reglament_store::{Store, StoreOptions};
use reglament_testkit::cpu::process_cpu;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const OFFICES: u64 = 20;
const REGULATIONS: u64 = 9;
const FIRST: &[&str] = &[
    "Айгүл",
    "Айгерім",
    "Әсем",
    "Ғалия",
    "Жанар",
    "Қарлығаш",
    "Мөлдір",
    "Нұргүл",
    "Өмірзақ",
    "Ұлан",
    "Үміт",
    "Іңкәр",
    "Асқар",
    "Бауыржан",
    "Дәурен",
    "Ерлан",
    "Жасұлан",
    "Қайрат",
    "Мұрат",
    "Нұрлан",
    "Анна",
    "Ольга",
    "Пётр",
    "Сергей",
    "Алёна",
    "Фёдор",
    "Игорь",
    "Наталья",
    "Дмитрий",
    "Татьяна",
];
const SYLLABLES: &[&str] = &[
    "ах", "бек", "сер", "ік", "нұр", "ай", "құл", "ер", "жан", "мұх", "ам", "ед", "ор", "ис",
    "тай", "қан", "ғаз", "бай", "тем", "үр", "ша", "ле", "ми", "ко", "ва", "ро", "ди", "ан", "ов",
    "ен",
];

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("instant")
        .with_timezone(&Utc)
}

/// The first names: the list above and made-up ones after it, 400 in all.
fn first_names() -> Vec<String> {
    let mut out: Vec<String> = FIRST.iter().map(|s| s.to_string()).collect();
    let mut i = 0;
    while out.len() < 400 {
        let (a, b) = (
            SYLLABLES[i % SYLLABLES.len()],
            SYLLABLES[(i / SYLLABLES.len() + 3) % SYLLABLES.len()],
        );
        i += 1;
        let mut n: Vec<char> = format!("{a}{b}").chars().collect();
        n[0] = n[0].to_uppercase().next().unwrap_or(n[0]);
        out.push(n.into_iter().collect());
    }
    out
}

fn surnames() -> Vec<String> {
    let ends = ["ов", "ова", "ұлы", "қызы", "ев", "ева", "баев", "бекова"];
    let mut out = Vec::new();
    'all: for a in SYLLABLES {
        for b in SYLLABLES {
            for e in ends {
                if out.len() == 2_500 {
                    break 'all;
                }
                let mut n: Vec<char> = format!("{a}{b}{e}").chars().collect();
                n[0] = n[0].to_uppercase().next().unwrap_or(n[0]);
                out.push(n.into_iter().collect());
            }
        }
    }
    out
}

/// A small deterministic generator, so every run asks the same questions.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn values(table: &str, rows: &[(usize, String, String)]) -> String {
    let list: Vec<String> = rows
        .iter()
        .map(|(i, name, key)| format!("({i}, '{name}', '{key}')"))
        .collect();
    format!(
        "INSERT INTO {table} (i, name, key) VALUES {};",
        list.join(", ")
    )
}

async fn fill(store: &Store, cases: u64, firsts: &[String], lasts: &[String], t0: i64) {
    let fold = |s: &String| words(s).into_iter().next().unwrap_or_default();
    let f: Vec<_> = firsts
        .iter()
        .enumerate()
        .map(|(i, n)| (i, n.clone(), fold(n)))
        .collect();
    let l: Vec<_> = lasts
        .iter()
        .enumerate()
        .map(|(i, n)| (i, n.clone(), fold(n)))
        .collect();
    let (nf, nl) = (firsts.len(), lasts.len());
    let sql = format!(
        "CREATE TABLE bench_first (i INTEGER PRIMARY KEY, name TEXT, key TEXT);
         CREATE TABLE bench_last (i INTEGER PRIMARY KEY, name TEXT, key TEXT);
         {}
         {}
         CREATE TABLE bench_n (i INTEGER PRIMARY KEY, f INTEGER, l INTEGER);
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last})
         INSERT INTO bench_n SELECT i, (i * 7919) % {nf}, (i * 104729 + i / 7) % {nl} FROM n;
         INSERT INTO cases (case_id, regulation_id, regulation_version, digest, channel, office,
             calendar_version, status, result, applicant, started_at, registered_at, due,
             breached, documents_missing, ended_at, last_seq, last_hash, last_event_at,
             incidents_open)
         SELECT printf('C-%08d', n.i), 'regulation-' || (n.i % {REGULATIONS}), 1, 'digest',
             'provider', 'office-' || printf('%02d', n.i % {OFFICES}), 'cal-1',
             CASE WHEN n.i >= {open_from} THEN 'open' WHEN n.i % 50 = 0 THEN 'cancelled'
                  ELSE 'ended' END,
             CASE WHEN n.i >= {open_from} OR n.i % 50 = 0 THEN NULL
                  WHEN n.i % 4 = 0 THEN 'refused' ELSE 'granted' END,
             f.name || ' ' || l.name, {t0} + n.i / 2 * 60000000, {t0} + n.i / 2 * 60000000,
             {t0} + n.i / 2 * 60000000 + 864000000000, n.i % 13 = 0, 0, NULL, 4, 'hash',
             {t0} + n.i / 2 * 60000000, 0
         FROM bench_n n JOIN bench_first f ON f.i = n.f JOIN bench_last l ON l.i = n.l;
         INSERT INTO case_offices (case_id, office, registered_at)
         SELECT case_id, office, registered_at FROM cases;
         INSERT INTO case_offices (case_id, office, registered_at)
         SELECT printf('C-%08d', i), 'akimat-' || (i / 10 % 3), {t0} + i / 2 * 60000000
         FROM bench_n WHERE i % 10 = 0;
         INSERT INTO case_keys (case_id, kind, key)
         SELECT printf('C-%08d', n.i), 'name', f.key FROM bench_n n JOIN bench_first f ON f.i = n.f;
         INSERT INTO case_keys (case_id, kind, key)
         SELECT printf('C-%08d', n.i), 'name', l.key FROM bench_n n JOIN bench_last l ON l.i = n.l
         ON CONFLICT DO NOTHING;
         INSERT INTO case_keys (case_id, kind, key)
         SELECT printf('C-%08d', i), 'iin', printf('%012d', 800000000000 + i) FROM bench_n;
         DROP TABLE bench_n; DROP TABLE bench_first; DROP TABLE bench_last;
         ANALYZE;",
        values("bench_first", &f),
        values("bench_last", &l),
        last = cases - 1,
        open_from = cases - cases / 10,
    );
    store.execute_raw(&sql).await.expect("fill");
}

/// A spelling of a name as someone might type it: upper case, or Kazakh letters written
/// with Russian ones, or as it is.
fn typed(name: &str, how: u64) -> String {
    match how {
        0 => name.to_uppercase(),
        1 => name
            .chars()
            .map(|c| match c {
                'ә' => 'а',
                'ү' | 'ұ' => 'у',
                'қ' => 'к',
                'і' => 'и',
                'ө' => 'о',
                'ғ' => 'г',
                'ң' => 'н',
                c => c,
            })
            .collect(),
        _ => name.to_lowercase(),
    }
}

fn prefix(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let cases: u64 = args
        .next()
        .and_then(|a| a.replace('_', "").parse().ok())
        .unwrap_or(1_000_000);
    let queries: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(300);
    let dir = std::env::temp_dir().join(format!("reglament-case-search-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = format!("sqlite:{}", dir.join("r.db").display());
    let store = Store::open_with(&url, StoreOptions::default())
        .await
        .expect("store");
    let t0 = t("2024-01-02T09:00:00+05:00");
    let (firsts, lasts) = (first_names(), surnames());
    let started = Instant::now();
    fill(&store, cases, &firsts, &lasts, t0.timestamp_micros()).await;
    println!(
        "filled {cases} cases ({} first names, {} surnames) in {:.1} s",
        firsts.len(),
        lasts.len(),
        started.elapsed().as_secs_f64()
    );
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let office = |r: &mut Rng| format!("office-{:02}", r.below(OFFICES));
    // The case `i`'s applicant, as the fill named it.
    let name_of = |i: u64| {
        let f = (i * 7919) % firsts.len() as u64;
        let l = (i * 104729 + i / 7) % lasts.len() as u64;
        (firsts[f as usize].clone(), lasts[l as usize].clone())
    };
    type Make<'a> = Box<dyn FnMut(&mut Rng) -> CaseSearch + 'a>;
    let kinds: Vec<(&str, Make)> = vec![
        (
            "name: first name and surname prefix, any spelling (auditor)",
            Box::new(|r: &mut Rng| {
                let (f, l) = name_of(r.below(cases));
                let mut q = CaseSearch::new(Scope::All, 20);
                q.name = Some(typed(&format!("{f} {}", prefix(&l, 4)), r.below(3)));
                q
            }),
        ),
        (
            "name: first name and surname prefix, staff of one office",
            Box::new(|r: &mut Rng| {
                let i = r.below(cases);
                let (f, l) = name_of(i);
                let mut q = CaseSearch::new(
                    Scope::Offices(vec![format!("office-{:02}", i % OFFICES)]),
                    20,
                );
                q.name = Some(typed(&format!("{f} {}", prefix(&l, 4)), r.below(3)));
                q
            }),
        ),
        (
            "name: surname only (some 400 cases), staff of two offices",
            Box::new(|r: &mut Rng| {
                let (_, l) = name_of(r.below(cases));
                let mut q = CaseSearch::new(Scope::Offices(vec![office(r), office(r)]), 20);
                q.name = Some(typed(&l, r.below(3)));
                q
            }),
        ),
        (
            "ИИН, staff of one office",
            Box::new(|r: &mut Rng| {
                let i = r.below(cases);
                let mut q = CaseSearch::new(
                    Scope::Offices(vec![format!("office-{:02}", i % OFFICES)]),
                    20,
                );
                q.iin = Some(format!("{:012}", 800_000_000_000 + i));
                q
            }),
        ),
        (
            "registration number, whole",
            Box::new(|r: &mut Rng| {
                let mut q = CaseSearch::new(Scope::All, 20);
                q.number = Some(format!("C-{:08}", r.below(cases)));
                q
            }),
        ),
        (
            "registration number, prefix of 100 cases",
            Box::new(|r: &mut Rng| {
                let mut q = CaseSearch::new(Scope::All, 20);
                q.number = Some(prefix(&format!("C-{:08}", r.below(cases)), 8));
                q
            }),
        ),
        (
            "open cases of a regulation, staff of one office",
            Box::new(|r: &mut Rng| {
                let mut q = CaseSearch::new(Scope::Offices(vec![office(r)]), 20);
                q.regulation = Some(format!("regulation-{}", r.below(REGULATIONS)));
                q.status = Some(StatusFilter::Open);
                q
            }),
        ),
        (
            "breached cases registered in a month, staff of an office and an akimat",
            Box::new(|r: &mut Rng| {
                let mut q = CaseSearch::new(
                    Scope::Offices(vec![office(r), format!("akimat-{}", r.below(3))]),
                    20,
                );
                let from = t0 + TimeDelta::days(r.below(600) as i64);
                q.registered_from = Some(from);
                q.registered_to = Some(from + TimeDelta::days(30));
                q.breached = Some(true);
                q
            }),
        ),
        (
            "a regulation's cases due in a week (auditor)",
            Box::new(|r: &mut Rng| {
                let mut q = CaseSearch::new(Scope::All, 20);
                q.regulation = Some(format!("regulation-{}", r.below(REGULATIONS)));
                let from = t0 + TimeDelta::days(r.below(600) as i64);
                q.due_from = Some(from);
                q.due_to = Some(from + TimeDelta::days(7));
                q
            }),
        ),
        (
            "every case, newest first (auditor)",
            Box::new(|_: &mut Rng| CaseSearch::new(Scope::All, 20)),
        ),
    ];
    println!("\n| search | median | p99 | max | CPU per search |\n|---|---|---|---|---|");
    let mut plans = Vec::new();
    for (what, mut make) in kinds {
        let qs: Vec<CaseSearch> = (0..queries).map(|_| make(&mut rng)).collect();
        let (times, cpu, found) = run(&store, &qs).await;
        println!(
            "| {what} | {} | {} | {} | {} |",
            ms(times[times.len() / 2]),
            ms(times[(times.len() * 99).div_ceil(100) - 1]),
            ms(times[times.len() - 1]),
            ms(cpu)
        );
        assert!(found > 0, "{what}: nothing found");
        plans.push((what, store.explain_search(&qs[0]).await.expect("plan")));
    }
    // A deep page: the cursor of a case far down an office's list.
    let qs: Vec<CaseSearch> = (0..queries)
        .map(|_| {
            let i = rng.below(cases);
            let mut q = CaseSearch::new(
                Scope::Offices(vec![format!("office-{:02}", i % OFFICES)]),
                20,
            );
            q.after = Some(format!(
                "s{}.C-{i:08}",
                t0.timestamp_micros() + (i / 2) as i64 * 60_000_000
            ));
            q
        })
        .collect();
    let (times, cpu, _) = run(&store, &qs).await;
    println!(
        "| a deep page (after a random case's cursor), staff of one office | {} | {} | {} | {} |",
        ms(times[times.len() / 2]),
        ms(times[(times.len() * 99).div_ceil(100) - 1]),
        ms(times[times.len() - 1]),
        ms(cpu)
    );
    plans.push((
        "a deep page",
        store.explain_search(&qs[0]).await.expect("plan"),
    ));
    for (what, plan) in plans {
        println!("\n{what}:");
        for line in plan {
            println!("  {line}");
        }
    }
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Each search's wall time (sorted), the process CPU time per search, the cases found.
async fn run(store: &Store, qs: &[CaseSearch]) -> (Vec<Duration>, Duration, usize) {
    // One round to warm the page cache, as a running server's would be.
    for q in qs.iter().take(20) {
        store.search_cases(q).await.expect("search");
    }
    let mut times = Vec::with_capacity(qs.len());
    let mut found = 0;
    let cpu = process_cpu();
    for q in qs {
        let start = Instant::now();
        let page = store.search_cases(q).await.expect("search");
        times.push(start.elapsed());
        found += page.items.len();
    }
    let cpu = (process_cpu() - cpu) / qs.len() as u32;
    times.sort();
    (times, cpu, found)
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}
