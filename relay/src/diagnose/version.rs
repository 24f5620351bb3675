//! The KB's "unsupported version" cause: the Exchange version from every source that answered,
//! reconciled into one product and build; sources that disagree are shown.

use migcheck_shared::kb::VersionProblem;
use migcheck_shared::{Check, Evidence, Status};

use super::{Outcome, Recorder};
use crate::probe::ews::EwsAnswer;
use crate::probe::owa::OwaProbe;
use crate::probe::version::{ExchangeBuild, Support};

/// One place the version was read, and what it said.
pub(crate) struct Source {
    pub label: &'static str,
    pub text: String,
    pub build: Option<ExchangeBuild>,
}

/// The sources a diagnosis collected: Autodiscover's ServerVersion, EWS, and OWA.
pub(crate) fn sources(autodiscover: Option<ExchangeBuild>, ews: Option<&EwsAnswer>, owa: &OwaProbe) -> Vec<Source> {
    let mut out = Vec::new();
    if let Some(b) = autodiscover {
        out.push(Source {
            label: "Autodiscover ServerVersion",
            text: b.to_string(),
            build: Some(b),
        });
    }
    if let Some(text) = ews.and_then(|e| e.version_text.clone()) {
        out.push(Source {
            label: "EWS ServerVersionInfo",
            build: ExchangeBuild::parse(&text),
            text,
        });
    }
    if let Some(text) = &owa.header {
        out.push(Source {
            label: "X-OWA-Version",
            build: ExchangeBuild::parse(text),
            text: text.clone(),
        });
    }
    if let Some(text) = &owa.path_build {
        out.push(Source {
            label: "OWA resource path",
            build: ExchangeBuild::parse(text),
            text: text.clone(),
        });
    }
    out
}

pub(crate) fn check(rec: &Recorder, sources: &[Source], owa: &OwaProbe) -> Check {
    let run = rec.start(None, "version", "The Exchange version", None);
    let mut evidence = Evidence::default();
    for s in sources {
        let said = match &s.build {
            Some(b) => format!("{} → {}", s.text, b.describe()),
            None => format!("{} (not a build number)", s.text),
        };
        evidence = evidence.fact(s.label, said);
    }
    for (request, said) in &owa.seen {
        evidence = evidence.fact(request, said.clone());
    }
    if let Some(fingerprint) = &owa.exchange_2003 {
        evidence = evidence.fact("Exchange 2003 fingerprint", fingerprint.clone());
        let outcome = Outcome::problem(VersionProblem::Exchange2003 {
            fingerprint: fingerprint.clone(),
        });
        return rec.finish(run, outcome.with_evidence(evidence), vec![]);
    }
    let mut builds: Vec<ExchangeBuild> = sources.iter().filter_map(|s| s.build).collect();
    builds.sort();
    builds.dedup();
    let Some(oldest) = builds.first().copied() else {
        return rec.finish(
            run,
            Outcome::new(Status::Info, "No source told the Exchange version.").with_evidence(evidence),
            vec![],
        );
    };
    // Every source's word, when they do not all say the same build.
    let disagreement: Vec<String> = if builds.len() > 1 {
        sources
            .iter()
            .filter_map(|s| s.build.map(|b| format!("{} says {}", s.label, b.describe())))
            .collect()
    } else {
        Vec::new()
    };
    let server = oldest.describe();
    let outcome = match oldest.support() {
        Support::NotASource => Outcome::problem(VersionProblem::NotASource { server, disagreement }),
        Support::Ended(date) => Outcome::problem(VersionProblem::EndOfSupport {
            server,
            date: date.to_string(),
            disagreement,
        }),
        Support::Supported | Support::Unknown if !disagreement.is_empty() => {
            Outcome::problem(VersionProblem::SourcesDisagree { server, disagreement })
        }
        Support::Supported => Outcome::pass(format!("The server is {server}, a supported version.")),
        Support::Unknown => Outcome::new(
            Status::Info,
            format!("The server reports {server}, a build migcheck does not know."),
        ),
    };
    rec.finish(run, outcome.with_evidence(evidence), vec![])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(label: &'static str, text: &str) -> Source {
        Source {
            label,
            text: text.into(),
            build: ExchangeBuild::parse(text),
        }
    }

    #[test]
    fn the_sources_are_reconciled_into_one_verdict() {
        let rec = Recorder::quiet();
        let owa = OwaProbe::default();
        let se = check(
            &rec,
            &[
                source("EWS ServerVersionInfo", "15.2.2562.17"),
                source("X-OWA-Version", "15.2.2562.17"),
            ],
            &owa,
        );
        assert_eq!(se.status, Status::Pass, "{}", se.summary);
        assert!(
            se.summary.contains("Subscription Edition RTM (15.2.2562)"),
            "{}",
            se.summary
        );

        let old = check(&rec, &[source("X-OWA-Version", "15.1.2507.6")], &owa);
        assert_eq!(old.status, Status::Warn);
        assert!(
            old.summary
                .contains("Exchange Server 2016 CU23 (15.1.2507), past its end of support (2025-10-14)"),
            "{}",
            old.summary
        );

        let mixed = check(
            &rec,
            &[
                source("X-OWA-Version", "15.1.2507.6"),
                source("EWS ServerVersionInfo", "15.2.1544.4"),
            ],
            &owa,
        );
        assert_eq!(mixed.status, Status::Warn);
        assert!(
            mixed
                .summary
                .contains("The sources disagree (X-OWA-Version says Exchange Server 2016 CU23"),
            "{}",
            mixed.summary
        );
        assert!(
            mixed
                .summary
                .contains("EWS ServerVersionInfo says Exchange Server 2019 CU14"),
            "{}",
            mixed.summary
        );

        let ex2003 = OwaProbe {
            exchange_2003: Some("/exchange/ answers 401 Unauthorized from Microsoft-IIS/6.0".into()),
            ..OwaProbe::default()
        };
        let fail = check(&rec, &[], &ex2003);
        assert_eq!(fail.status, Status::Fail);
        assert!(
            fail.summary.contains("isn't supported in Office 365"),
            "{}",
            fail.summary
        );
        assert!(
            rec.findings()
                .iter()
                .any(|f| f.cause == migcheck_shared::Cause::UnsupportedVersion && f.severity == Status::Fail)
        );

        let none = check(&rec, &[], &owa);
        assert_eq!(none.status, Status::Info);
    }
}
