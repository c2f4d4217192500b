//! Loading the calendar files and the registry of calendars, regions and offices.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use chrono_tz::Tz;

use super::clock::OfficeClock;
use super::data::{ForwardsTo, NationalCalendarData, OfficeData, OfficeKind, OfficesData};
use super::error::CalendarError;
use super::national::WorkCalendar;
use super::schedule::Schedule;
use super::schema::{calendar_check, offices_check};
use super::yaml::{self, Located};
use reglament_model::diagnostic::{Code, Diagnostic, Location};
use reglament_model::duration::suggest;
use reglament_model::load::SchemaCheck;
use reglament_model::paths::DayLengths;

fn read(path: &Path) -> Result<String, Vec<Diagnostic>> {
    std::fs::read_to_string(path).map_err(|e| {
        vec![Diagnostic::new(
            &path.display().to_string(),
            Code::E001,
            Location::new(1, 1),
            format!("cannot read the file: {e}"),
        )]
    })
}

fn checked<T: serde::de::DeserializeOwned>(
    text: &str,
    file: &str,
    check: &SchemaCheck,
) -> Result<(T, Located), Vec<Diagnostic>> {
    let located = yaml::parse(text, file)?;
    let errors = yaml::check_schema(&located, check);
    if !errors.is_empty() {
        return Err(errors);
    }
    let data = yaml::deserialize(&located)?;
    Ok((data, located))
}

/// Loads and compiles a national calendar file.
pub fn load_national(path: &Path) -> Result<WorkCalendar, Vec<Diagnostic>> {
    national_from_str(&read(path)?, &path.display().to_string())
}

/// Compiles a national calendar from YAML text; `file` names it in diagnostics.
pub fn national_from_str(text: &str, file: &str) -> Result<WorkCalendar, Vec<Diagnostic>> {
    let (data, located): (NationalCalendarData, _) = checked(text, file, calendar_check())?;
    WorkCalendar::compile(data, &located)
}

/// A region's offices file, checked: its zone, compiled schedules and offices.
#[derive(Debug, Clone)]
pub struct Region {
    pub data: OfficesData,
    pub zone: Tz,
    pub schedules: BTreeMap<String, Schedule>,
    located: Located,
}

impl Region {
    pub fn id(&self) -> &str {
        &self.data.region
    }

    pub fn offices(&self) -> &[OfficeData] {
        &self.data.offices
    }

    /// The clock of schedule `schedule` on `national`.
    pub fn clock(
        &self,
        schedule: &str,
        national: &WorkCalendar,
    ) -> Result<OfficeClock, CalendarError> {
        let s = self.schedules.get(schedule).cloned().ok_or_else(|| {
            CalendarError::UnknownSchedule {
                id: schedule.to_string(),
            }
        })?;
        OfficeClock::new(national, s, self.zone)
    }

    /// The region's working-day lengths per kind of office, for a regulation linter's sums:
    /// for each kind, the shortest weekday (Monday to Friday, the days a term counts) of any
    /// of its offices, so that a path that fits does so at every office of the region.
    pub fn day_lengths(&self) -> DayLengths {
        let mut kinds: BTreeMap<OfficeKind, u32> = BTreeMap::new();
        for office in self.offices() {
            let Some(schedule) = self.schedules.get(&office.schedule) else {
                continue;
            };
            if let Some(m) = schedule.day_minutes() {
                kinds
                    .entry(office.kind)
                    .and_modify(|k| *k = (*k).min(m))
                    .or_insert(m);
            }
        }
        DayLengths {
            kinds,
            ..DayLengths::default()
        }
    }
}

/// Loads and checks a region's offices file.
pub fn load_offices(path: &Path) -> Result<Region, Vec<Diagnostic>> {
    offices_from_str(&read(path)?, &path.display().to_string())
}

/// Checks a region's offices file from YAML text; `file` names it in diagnostics.
pub fn offices_from_str(text: &str, file: &str) -> Result<Region, Vec<Diagnostic>> {
    let (data, located): (OfficesData, _) = checked(text, file, offices_check())?;
    let mut errors = Vec::new();
    let zone: Tz = match data.time_zone.parse() {
        Ok(z) => z,
        Err(_) => {
            let names = chrono_tz::TZ_VARIANTS.iter().map(|z| z.name());
            let hint = suggest(&data.time_zone, names)
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_else(|| {
                    ": use an IANA name such as Asia/Almaty or Asia/Atyrau".to_string()
                });
            errors.push(located.error(
                "/time_zone",
                format!("unknown time zone `{}`{hint}", data.time_zone),
            ));
            chrono_tz::Asia::Almaty
        }
    };
    let mut schedules = BTreeMap::new();
    for (id, s) in &data.schedules {
        let pointer = format!("/schedules/{}", yaml::escape(id));
        schedules.insert(
            id.clone(),
            Schedule::compile(id, s, &located, &pointer, &mut errors),
        );
    }
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, office) in data.offices.iter().enumerate() {
        if let Some(prev) = seen.insert(office.id.as_str(), i) {
            errors.push(located.error(
                &format!("/offices/{i}/id"),
                format!("the id `{}` is already used by offices[{prev}]", office.id),
            ));
        }
        if !schedules.contains_key(&office.schedule) {
            let hint = suggest(&office.schedule, schedules.keys().map(String::as_str))
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_else(|| {
                    format!(
                        "; the schedules are: {}",
                        schedules.keys().cloned().collect::<Vec<_>>().join(", ")
                    )
                });
            errors.push(located.error(
                &format!("/offices/{i}/schedule"),
                format!("unknown schedule `{}`{hint}", office.schedule),
            ));
        }
    }
    if errors.is_empty() {
        Ok(Region {
            data,
            zone,
            schedules,
            located,
        })
    } else {
        Err(errors)
    }
}

/// An office with its working-time clock.
#[derive(Debug, Clone)]
pub struct Office {
    pub data: OfficeData,
    /// The region's id.
    pub region: String,
    pub clock: OfficeClock,
}

/// Every calendar, region and office under a regulations folder
/// (`calendars/*.yaml`, `offices/*.yaml`).
#[derive(Debug, Clone)]
pub struct Calendars {
    nationals: BTreeMap<String, WorkCalendar>,
    regions: BTreeMap<String, Region>,
    offices: BTreeMap<String, Office>,
    warnings: Vec<Diagnostic>,
}

fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>, Box<Diagnostic>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Box::new(Diagnostic::new(
            &dir.display().to_string(),
            Code::E001,
            Location::new(1, 1),
            format!("cannot read the folder: {e}"),
        ))
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    Ok(files)
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

impl Calendars {
    /// Loads everything under `root` (normally `regulations/`). Every file is checked and
    /// every problem reported; warnings are kept in [`Calendars::warnings`].
    pub fn load(root: &Path) -> Result<Calendars, Vec<Diagnostic>> {
        Calendars::load_with(root, None)
    }

    /// Loads as [`Calendars::load`] does, with the national calendar of `national` (a file
    /// anywhere, e.g. a draft of `kz.yaml` with a new decree) in place of the bundled one of
    /// the same id: what `reglament calendar impact` compares running cases with.
    pub fn load_with(root: &Path, national: Option<&Path>) -> Result<Calendars, Vec<Diagnostic>> {
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        let mut nationals = BTreeMap::new();
        match yaml_files(&root.join("calendars")) {
            Ok(files) => {
                for path in files {
                    match load_national(&path) {
                        Ok(cal) => {
                            if cal.id() != stem(&path) {
                                let located = yaml::parse(
                                    &read(&path).unwrap_or_default(),
                                    &path.display().to_string(),
                                );
                                let pos = located.map(|l| l.pos("/id")).unwrap_or_default();
                                errors.push(Diagnostic::new(
                                    &path.display().to_string(),
                                    Code::E050,
                                    pos,
                                    format!(
                                        "the id `{}` must match the file name `{}.yaml`",
                                        cal.id(),
                                        stem(&path)
                                    ),
                                ));
                            }
                            warnings.extend(cal.warnings().iter().cloned());
                            nationals.insert(cal.id().to_string(), cal);
                        }
                        Err(diags) => {
                            for d in diags {
                                if d.is_error() {
                                    errors.push(d);
                                } else {
                                    warnings.push(d);
                                }
                            }
                        }
                    }
                }
            }
            Err(e) => errors.push(*e),
        }
        if let Some(path) = national {
            match load_national(path) {
                Ok(cal) => {
                    if !nationals.contains_key(cal.id()) {
                        let located = yaml::parse(
                            &read(path).unwrap_or_default(),
                            &path.display().to_string(),
                        );
                        let pos = located.map(|l| l.pos("/id")).unwrap_or_default();
                        errors.push(Diagnostic::new(
                            &path.display().to_string(),
                            Code::E050,
                            pos,
                            format!(
                                "no calendar `{}` to replace; the calendars are: {}",
                                cal.id(),
                                nationals.keys().cloned().collect::<Vec<_>>().join(", ")
                            ),
                        ));
                    }
                    warnings.extend(cal.warnings().iter().cloned());
                    nationals.insert(cal.id().to_string(), cal);
                }
                Err(diags) => errors.extend(diags.into_iter().filter(Diagnostic::is_error)),
            }
        }
        let mut regions = BTreeMap::new();
        let mut offices = BTreeMap::new();
        let offices_dir = root.join("offices");
        let office_files = if offices_dir.exists() {
            yaml_files(&offices_dir).unwrap_or_else(|e| {
                errors.push(*e);
                Vec::new()
            })
        } else {
            Vec::new()
        };
        for path in office_files {
            let region = match load_offices(&path) {
                Ok(r) => r,
                Err(diags) => {
                    errors.extend(diags);
                    continue;
                }
            };
            if region.id() != stem(&path) {
                errors.push(region.located.error(
                    "/region",
                    format!(
                        "the region `{}` must match the file name `{}.yaml`",
                        region.id(),
                        stem(&path)
                    ),
                ));
            }
            let Some(national) = nationals.get(&region.data.calendar) else {
                if !errors
                    .iter()
                    .any(|d: &Diagnostic| d.file.contains("calendars"))
                {
                    let hint = suggest(&region.data.calendar, nationals.keys().map(String::as_str))
                        .map(|s| format!("; did you mean `{s}`?"))
                        .unwrap_or_default();
                    errors.push(region.located.error(
                        "/calendar",
                        format!("unknown calendar `{}`{hint}", region.data.calendar),
                    ));
                }
                continue;
            };
            let mut clocks = BTreeMap::new();
            for id in region.schedules.keys() {
                match region.clock(id, national) {
                    Ok(c) => {
                        clocks.insert(id.clone(), c);
                    }
                    Err(e) => errors.push(
                        region
                            .located
                            .error(&format!("/schedules/{}", yaml::escape(id)), e.to_string()),
                    ),
                }
            }
            for (i, office) in region.data.offices.iter().enumerate() {
                let targets = office.forwards_to.as_ref().map_or(&[][..], |f| f.offices());
                let many = matches!(office.forwards_to, Some(ForwardsTo::Many(_)));
                if many && targets.is_empty() {
                    errors.push(region.located.error(
                        &format!("/offices/{i}/forwards_to"),
                        format!(
                            "`{}` forwards to an empty list: name at least one provider office, or leave `forwards_to` out",
                            office.id
                        ),
                    ));
                }
                for (j, to) in targets.iter().enumerate() {
                    let target = region.data.offices.iter().find(|o| &o.id == to);
                    let twice = targets[..j].contains(to);
                    let problem = match target {
                        _ if twice => Some(format!("`{}` names `{to}` twice", office.id)),
                        None => Some(format!(
                            "`{}` forwards to `{to}`, which is not an office of region `{}`",
                            office.id,
                            region.id()
                        )),
                        Some(t) if t.kind != OfficeKind::ProviderOffice => Some(format!(
                            "`{}` forwards to `{to}`, a {}, not a provider office",
                            office.id,
                            t.kind.as_str()
                        )),
                        Some(_) if office.kind == OfficeKind::ProviderOffice => Some(format!(
                            "`{}` is a provider office: it forwards to nobody",
                            office.id
                        )),
                        Some(_) => None,
                    };
                    if let Some(message) = problem {
                        let pointer = if many {
                            format!("/offices/{i}/forwards_to/{j}")
                        } else {
                            format!("/offices/{i}/forwards_to")
                        };
                        errors.push(region.located.error(&pointer, message));
                    }
                }
                let Some(clock) = clocks.get(&office.schedule) else {
                    continue;
                };
                if let Some(prev) = offices.get(&office.id) {
                    let prev: &Office = prev;
                    errors.push(region.located.error(
                        &format!("/offices/{i}/id"),
                        format!(
                            "the office id `{}` is already used in region `{}`",
                            office.id, prev.region
                        ),
                    ));
                    continue;
                }
                offices.insert(
                    office.id.clone(),
                    Office {
                        data: office.clone(),
                        region: region.id().to_string(),
                        clock: clock.clone().with_warnings(&office.warnings),
                    },
                );
            }
            regions.insert(region.id().to_string(), region);
        }
        if errors.is_empty() {
            Ok(Calendars {
                nationals,
                regions,
                offices,
                warnings,
            })
        } else {
            Err(errors)
        }
    }

    /// The offices a case registered at `office` passes through, by kind: the office itself,
    /// and for a service centre or a rural akim the provider office it forwards to (when its
    /// offices file names one, and only one: see [`Calendars::route_via`]).
    pub fn route(&self, office: &str) -> Result<BTreeMap<String, String>, CalendarError> {
        self.route_via(office, None)
    }

    /// The provider offices a service centre or rural akim forwards to (none for a provider
    /// office, or where the offices file names none).
    pub fn forwards(&self, office: &str) -> Result<&[String], CalendarError> {
        Ok(self
            .office(office)?
            .data
            .forwards_to
            .as_ref()
            .map_or(&[][..], |f| f.offices()))
    }

    /// The route of a case registered at `office` and handed to `provider`, which must be one
    /// of the offices it forwards to; without `provider`, the one it forwards to when there is
    /// only one (with several, the route has no provider office: the caller must choose).
    pub fn route_via(
        &self,
        office: &str,
        provider: Option<&str>,
    ) -> Result<BTreeMap<String, String>, CalendarError> {
        let o = self.office(office)?;
        let mut route = BTreeMap::new();
        route.insert(o.data.kind.as_str().to_string(), o.data.id.clone());
        let targets = self.forwards(office)?;
        let to = match provider {
            Some(p) if targets.iter().any(|t| t == p) => Some(p),
            Some(p) => {
                return Err(CalendarError::NotForwardedTo {
                    office: office.to_string(),
                    to: p.to_string(),
                    targets: targets.join(", "),
                });
            }
            None if targets.len() == 1 => Some(targets[0].as_str()),
            None => None,
        };
        if let Some(to) = to {
            route.insert(
                OfficeKind::ProviderOffice.as_str().to_string(),
                to.to_string(),
            );
        }
        Ok(route)
    }

    /// A national calendar by id.
    pub fn national(&self, id: &str) -> Result<&WorkCalendar, CalendarError> {
        self.nationals
            .get(id)
            .ok_or_else(|| CalendarError::UnknownCalendar {
                id: id.to_string(),
                suggestion: suggest(id, self.nationals.keys().map(String::as_str))
                    .map(str::to_string),
            })
    }

    /// The standard schedule (Mon–Fri 09:00–18:00, lunch 13:00–14:00, Asia/Almaty) on the
    /// `kz` national calendar.
    pub fn standard_clock(&self) -> Result<OfficeClock, CalendarError> {
        OfficeClock::standard(self.national("kz")?)
    }

    /// An office by id.
    pub fn office(&self, id: &str) -> Result<&Office, CalendarError> {
        self.offices
            .get(id)
            .ok_or_else(|| CalendarError::UnknownOffice {
                id: id.to_string(),
                suggestion: suggest(id, self.offices.keys().map(String::as_str))
                    .map(str::to_string),
            })
    }

    /// The office's clock, or the standard clock without an office.
    pub fn clock(&self, office: Option<&str>) -> Result<OfficeClock, CalendarError> {
        match office {
            Some(id) => Ok(self.office(id)?.clock.clone()),
            None => self.standard_clock(),
        }
    }

    pub fn offices(&self) -> impl Iterator<Item = &Office> {
        self.offices.values()
    }

    pub fn regions(&self) -> impl Iterator<Item = &Region> {
        self.regions.values()
    }

    /// Every region's [`Region::day_lengths`], by region id (what `validate::Known::days`
    /// takes).
    pub fn day_lengths(&self) -> HashMap<String, DayLengths> {
        self.regions
            .values()
            .map(|r| (r.id().to_string(), r.day_lengths()))
            .collect()
    }

    pub fn nationals(&self) -> impl Iterator<Item = &WorkCalendar> {
        self.nationals.values()
    }

    /// Diagnostics that did not stop loading.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }
}
