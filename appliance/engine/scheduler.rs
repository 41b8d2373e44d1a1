//! Continuous-batching plan: which tokens of which sequence go into the next `llama_decode`.
//!
//! Pure logic, no llama.cpp types, so it is unit-tested without a model. Sequences that are
//! generating get one token each first (keeps their latency flat); sequences still
//! processing their prompt fill the remaining batch capacity in chunks, so a long prompt
//! joins between steps without stalling running streams.

/// What the planner needs to know of one occupied slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SlotState {
    /// The prompt still has this many tokens to evaluate (> 0).
    Prefill { remaining: usize },
    /// The prompt is evaluated; one sampled token waits to be decoded.
    Generate,
}

/// One slot's share of the next batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Planned {
    /// Index of the slot (the llama.cpp sequence id).
    pub slot: usize,
    /// Number of tokens taken from this slot into the batch (≥ 1).
    pub count: usize,
    /// Whether logits are requested for the last of these tokens (a token is sampled next).
    pub logits: bool,
}

/// Plans one batch of at most `n_batch` tokens over the occupied slots.
///
/// `start` rotates which prefilling slot goes first, so two long prompts share the
/// capacity over successive steps instead of one starving the other.
pub(crate) fn plan(slots: &[Option<SlotState>], n_batch: usize, start: usize) -> Vec<Planned> {
    let mut out = Vec::new();
    let mut room = n_batch;
    for (slot, s) in slots.iter().enumerate() {
        if room == 0 {
            break;
        }
        if let Some(SlotState::Generate) = s {
            out.push(Planned { slot, count: 1, logits: true });
            room -= 1;
        }
    }
    let n = slots.len();
    for k in 0..n {
        if room == 0 {
            break;
        }
        let slot = (start + k) % n;
        if let Some(SlotState::Prefill { remaining }) = slots[slot] {
            if remaining == 0 {
                continue;
            }
            let count = remaining.min(room);
            out.push(Planned { slot, count, logits: count == remaining });
            room -= count;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generating_slots_come_first_with_one_token_each() {
        let slots = [Some(SlotState::Prefill { remaining: 10 }), Some(SlotState::Generate), None, Some(SlotState::Generate)];
        let p = plan(&slots, 8, 0);
        assert_eq!(p[0], Planned { slot: 1, count: 1, logits: true });
        assert_eq!(p[1], Planned { slot: 3, count: 1, logits: true });
        // The prompt gets the remaining 6 of 8 and no logits yet: it is not finished.
        assert_eq!(p[2], Planned { slot: 0, count: 6, logits: false });
        assert_eq!(p.iter().map(|x| x.count).sum::<usize>(), 8);
    }

    #[test]
    fn a_prompt_that_fits_requests_logits_on_its_last_token() {
        let p = plan(&[Some(SlotState::Prefill { remaining: 5 })], 512, 0);
        assert_eq!(p, vec![Planned { slot: 0, count: 5, logits: true }]);
    }

    #[test]
    fn prefill_capacity_rotates_between_long_prompts() {
        let slots = [Some(SlotState::Prefill { remaining: 100 }), Some(SlotState::Prefill { remaining: 100 })];
        assert_eq!(plan(&slots, 64, 0)[0].slot, 0);
        assert_eq!(plan(&slots, 64, 1)[0].slot, 1);
        assert_eq!(plan(&slots, 64, 1).len(), 1, "the first prompt takes the whole batch");
    }

    #[test]
    fn more_generating_slots_than_batch_room_are_capped() {
        let slots = vec![Some(SlotState::Generate); 5];
        assert_eq!(plan(&slots, 3, 0).len(), 3);
    }

    #[test]
    fn empty_slots_plan_nothing() {
        assert!(plan(&[None, None], 16, 0).is_empty());
    }
}
