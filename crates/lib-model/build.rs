//! `sqlx::migrate!` embeds `sql/migrations` at compile time; this makes cargo rebuild the crate
//! when a migration is added or changed (it cannot see new files in a folder by itself).

fn main() {
    println!("cargo:rerun-if-changed=../../sql/migrations");
}
