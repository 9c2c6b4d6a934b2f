//! How long to wait between polls: short at first so a fast operation is noticed at once,
//! growing so a slow one does not hammer the API, and much longer while AWS throttles.

use std::time::Duration;

use crate::aws::Failure;
use crate::error::Result;

const FIRST: Duration = Duration::from_millis(250);
const CALM_MAX: Duration = Duration::from_secs(2);
const THROTTLED_MAX: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { next: FIRST }
    }
}

impl Backoff {
    /// The delay before the next poll. `throttled` says the last poll was throttled.
    pub fn next_delay(&mut self, throttled: bool) -> Duration {
        let delay = if throttled { (self.next * 2).min(THROTTLED_MAX) } else { self.next.min(CALM_MAX) };
        self.next = if throttled { delay } else { delay.mul_f32(1.5).min(CALM_MAX) };
        delay
    }

    /// Something happened: look again soon, as things tend to happen together.
    pub fn reset(&mut self) {
        self.next = FIRST;
    }
}

/// What one poll found.
pub enum Step<T> {
    Done(T),
    /// Nothing new yet.
    Wait,
    /// Something moved: look again soon.
    Progressed,
}

/// How many polls in a row may be throttled (each after the SDK's own retries) before the
/// wait gives up: about a minute and a half of back-off.
const THROTTLED_POLLS_MAX: u32 = 12;

/// Polls `probe` until it is done. Throttling that outlasts the SDK's retries is waited out
/// with a longer back-off, up to a limit; any other failure ends the wait.
pub async fn until<T>(mut probe: impl AsyncFnMut() -> Result<Step<T>, Failure>) -> Result<T> {
    let mut backoff = Backoff::default();
    let mut throttled = 0;
    loop {
        tokio::time::sleep(backoff.next_delay(throttled > 0)).await;
        match probe().await {
            Ok(Step::Done(value)) => return Ok(value),
            Ok(Step::Wait) => throttled = 0,
            Ok(Step::Progressed) => {
                throttled = 0;
                backoff.reset();
            }
            Err(f) if f.throttled() && throttled < THROTTLED_POLLS_MAX => throttled += 1,
            Err(f) => return Err(f.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(d: Duration) -> u128 {
        d.as_millis()
    }

    #[test]
    fn starts_at_a_quarter_second_and_grows_to_two_seconds() {
        let mut b = Backoff::default();
        let delays: Vec<u128> = (0..8).map(|_| ms(b.next_delay(false))).collect();
        assert_eq!(delays, [250, 375, 562, 843, 1265, 1898, 2000, 2000]);
    }

    #[test]
    fn throttling_doubles_up_to_ten_seconds_then_calms_down() {
        let mut b = Backoff::default();
        let delays: Vec<u128> = (0..7).map(|_| ms(b.next_delay(true))).collect();
        assert_eq!(delays, [500, 1000, 2000, 4000, 8000, 10000, 10000]);
        assert_eq!(ms(b.next_delay(false)), 2000);
    }

    fn throttled() -> Failure {
        Failure { operation: "DescribeStacks", code: Some("Throttling".into()), detail: "throttled".into() }
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_is_waited_out_then_given_up() {
        let started = tokio::time::Instant::now();
        let mut calls = 0;
        let done = until(async || {
            calls += 1;
            if calls <= 5 { Err(throttled()) } else { Ok(Step::Done(calls)) }
        })
        .await;
        assert_eq!(done, Ok(6));
        // 250 ms, then doubling from there while throttled: 0.75, 1.5, 3, 6 and 10 s.
        assert_eq!(started.elapsed().as_millis(), 21_500);

        let mut calls = 0;
        let err = until(async || -> Result<Step<()>, Failure> {
            calls += 1;
            Err(throttled())
        })
        .await
        .unwrap_err();
        assert_eq!(calls, THROTTLED_POLLS_MAX + 1);
        assert_eq!(err.message, "DescribeStacks: throttled");
    }

    #[tokio::test(start_paused = true)]
    async fn other_failures_end_the_wait_at_once() {
        let mut calls = 0;
        let err = until(async || -> Result<Step<()>, Failure> {
            calls += 1;
            Err(Failure { operation: "DescribeStacks", code: Some("InternalFailure".into()), detail: "boom".into() })
        })
        .await
        .unwrap_err();
        assert_eq!((calls, err.message.as_str()), (1, "DescribeStacks: boom"));
    }

    #[test]
    fn reset_looks_again_soon() {
        let mut b = Backoff::default();
        for _ in 0..5 {
            b.next_delay(false);
        }
        b.reset();
        assert_eq!(ms(b.next_delay(false)), 250);
    }
}
