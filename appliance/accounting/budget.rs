//! Prices and monthly budgets: cost of a request from `[[prices]]` (EUR per million tokens),
//! running totals per department, zone and calendar month (UTC), and the check that refuses
//! a request to a zone whose budget is spent. A budget only ever limits the zone it names.

use std::collections::HashMap;
use std::sync::Mutex;

use time::OffsetDateTime;

use crate::config::{BudgetConfig, PriceConfig};
use crate::policy::Zone;

/// A spent budget: the message names the budget and when it resets.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the {zone} budget of department {department} for {month} is used up ({used} of {limit}); it resets on {reset}")]
pub struct BudgetExceeded {
    /// Department.
    pub department: String,
    /// Zone.
    pub zone: &'static str,
    /// `YYYY-MM`.
    pub month: String,
    /// Used amount with unit.
    pub used: String,
    /// Limit with unit.
    pub limit: String,
    /// First day of the next month, `YYYY-MM-DD`.
    pub reset: String,
}

/// `(year, month)` of a Unix time, UTC.
pub fn month_of(unix: u64) -> (i32, u8) {
    let t = OffsetDateTime::from_unix_timestamp(i64::try_from(unix).unwrap_or(0)).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    (t.year(), u8::from(t.month()))
}

fn next_month((y, m): (i32, u8)) -> (i32, u8) {
    if m == 12 {
        (y + 1, 1)
    } else {
        (y, m + 1)
    }
}

type Key = (String, Zone, (i32, u8));

/// Running monthly totals and the configured limits.
#[derive(Debug, Default)]
pub struct Meter {
    prices: HashMap<String, (f64, f64)>,
    budgets: Vec<BudgetConfig>,
    totals: Mutex<HashMap<Key, (u64, f64)>>,
}

impl Meter {
    /// A meter with prices and budgets from the configuration.
    pub fn new(prices: &[PriceConfig], budgets: &[BudgetConfig]) -> Meter {
        Meter { prices: prices.iter().map(|p| (p.model.clone(), (p.input_eur_per_million, p.output_eur_per_million))).collect(), budgets: budgets.to_vec(), totals: Mutex::default() }
    }

    /// Cost in EUR of `prompt` and `completion` tokens on `model` (0 without a price).
    pub fn cost(&self, model: &str, prompt: u64, completion: u64) -> f64 {
        self.prices.get(model).map_or(0.0, |(i, o)| (prompt as f64 * i + completion as f64 * o) / 1e6)
    }

    /// Adds a request's tokens and cost to its month.
    pub fn add(&self, department: &str, zone: Zone, unix: u64, tokens: u64, eur: f64) {
        let mut t = self.totals.lock().unwrap_or_else(|e| e.into_inner());
        let e = t.entry((department.to_string(), zone, month_of(unix))).or_default();
        e.0 += tokens;
        e.1 += eur;
    }

    /// Tokens and EUR used by `department` in `zone` in the month of `unix`.
    pub fn used(&self, department: &str, zone: Zone, unix: u64) -> (u64, f64) {
        let t = self.totals.lock().unwrap_or_else(|e| e.into_inner());
        t.get(&(department.to_string(), zone, month_of(unix))).copied().unwrap_or_default()
    }

    /// Fill levels of every budget for the month of `unix`: (budget, fraction used).
    pub fn fill(&self, unix: u64) -> Vec<(BudgetConfig, f64)> {
        self.budgets
            .iter()
            .map(|b| {
                let (tok, eur) = self.used(&b.department, b.zone, unix);
                let f = b.monthly_tokens.map_or(0.0, |l| tok as f64 / l.max(1) as f64).max(b.monthly_eur.map_or(0.0, |l| if l > 0.0 { eur / l } else { 1.0 }));
                (b.clone(), f)
            })
            .collect()
    }

    /// Refuses when a budget of `department` for `zone` is used up in the month of `unix`.
    /// Logs a warning once the `warn_at` fraction is passed.
    ///
    /// # Errors
    /// [`BudgetExceeded`].
    pub fn check(&self, department: &str, zone: Zone, unix: u64) -> Result<(), Box<BudgetExceeded>> {
        let (tok, eur) = self.used(department, zone, unix);
        let month = month_of(unix);
        for b in self.budgets.iter().filter(|b| b.department == department && b.zone == zone) {
            let over = |used: String, limit: String| {
                let (ny, nm) = next_month(month);
                Box::new(BudgetExceeded { department: department.into(), zone: zone.as_str(), month: format!("{:04}-{:02}", month.0, month.1), used, limit, reset: format!("{ny:04}-{nm:02}-01") })
            };
            if let Some(l) = b.monthly_tokens {
                if tok >= l {
                    return Err(over(format!("{tok} tokens"), format!("{l} tokens")));
                }
                if tok as f64 >= b.warn_at * l as f64 {
                    log::warn!("department {department} has used {tok} of {l} tokens of its {} budget", zone.as_str());
                }
            }
            if let Some(l) = b.monthly_eur {
                if eur >= l {
                    return Err(over(format!("{eur:.2} EUR"), format!("{l:.2} EUR")));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meter() -> Meter {
        let b = BudgetConfig { department: "Bauamt".into(), zone: Zone::Red, monthly_tokens: Some(100), monthly_eur: None, warn_at: 0.8 };
        Meter::new(&[PriceConfig { model: "red/m".into(), input_eur_per_million: 2.0, output_eur_per_million: 8.0 }], &[b])
    }

    const NOV_30: u64 = 1_795_996_800; // 2026-11-30T00:00:00Z
    const DEC_01: u64 = NOV_30 + 86_400;

    #[test]
    fn boundary_blocks_only_when_the_limit_is_reached() {
        let m = meter();
        m.add("Bauamt", Zone::Red, NOV_30, 99, 0.0);
        assert!(m.check("Bauamt", Zone::Red, NOV_30).is_ok(), "99 of 100 still allows a request");
        m.add("Bauamt", Zone::Red, NOV_30, 1, 0.0);
        let e = m.check("Bauamt", Zone::Red, NOV_30).unwrap_err();
        assert_eq!(e.reset, "2026-12-01");
        assert!(e.to_string().contains("red budget of department Bauamt"));
    }

    #[test]
    fn a_budget_never_blocks_another_zone_or_department() {
        let m = meter();
        m.add("Bauamt", Zone::Red, NOV_30, 500, 0.0);
        assert!(m.check("Bauamt", Zone::Yellow, NOV_30).is_ok());
        assert!(m.check("Bauamt", Zone::Green, NOV_30).is_ok());
        assert!(m.check("Sozialamt", Zone::Red, NOV_30).is_ok());
    }

    #[test]
    fn a_new_month_starts_from_zero() {
        let m = meter();
        m.add("Bauamt", Zone::Red, NOV_30, 500, 0.0);
        assert!(m.check("Bauamt", Zone::Red, NOV_30).is_err());
        assert!(m.check("Bauamt", Zone::Red, DEC_01).is_ok());
    }

    #[test]
    fn cost_uses_the_price_table() {
        let m = meter();
        assert!((m.cost("red/m", 1_000_000, 500_000) - 6.0).abs() < 1e-9);
        assert_eq!(m.cost("other", 1000, 1000), 0.0);
    }
}
