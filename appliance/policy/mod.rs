//! Data-class policy. (Being written: see the policy helper's branch.)
