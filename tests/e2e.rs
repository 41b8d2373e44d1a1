fn main(){}

mod policy_quality;
