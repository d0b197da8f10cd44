//! [`generate_crud_fns!`]: one call gives an entity's Bmc its CRUD methods.

/// Gives a Bmc inherent `create`, `create_many`, `get`, `get_many`, `list` (a [`Page`](crate::base::Page)),
/// `count`, `update` and `delete` (and `update_if` / `delete_if`, the same with `if_mtime`) over
/// the generic functions of [`base`](crate::base), with the types its `DbBmc` impl names:
///
/// ```ignore
/// generate_crud_fns!(TaskBmc);
/// ```
#[macro_export]
macro_rules! generate_crud_fns {
    ($bmc:ty $(,)?) => {
        impl $bmc {
            pub async fn create(
                ctx: &$crate::Ctx,
                mm: &$crate::ModelManager,
                data: $crate::base::ForCreate<Self>,
            ) -> $crate::Result<<Self as $crate::base::DbBmc>::Entity> {
                $crate::base::create::<Self>(ctx, mm, data).await
            }

            /// Creates the rows in one statement, all or none (see `base::create_many`).
            pub async fn create_many(
                ctx: &$crate::Ctx,
                mm: &$crate::ModelManager,
                data: Vec<$crate::base::ForCreate<Self>>,
            ) -> $crate::Result<Vec<<Self as $crate::base::DbBmc>::Entity>> {
                $crate::base::create_many::<Self>(ctx, mm, data).await
            }

            pub async fn get(
                ctx: &$crate::Ctx,
                mm: &$crate::ModelManager,
                id: i64,
            ) -> $crate::Result<<Self as $crate::base::DbBmc>::Entity> {
                $crate::base::get::<Self>(ctx, mm, id).await
            }

            /// The rows among `ids` the caller may see, in one statement.
            pub async fn get_many(
                ctx: &$crate::Ctx,
                mm: &$crate::ModelManager,
                ids: Vec<i64>,
            ) -> $crate::Result<Vec<<Self as $crate::base::DbBmc>::Entity>> {
                $crate::base::get_many::<Self>(ctx, mm, ids).await
            }

            /// One page of the rows `filters` select, and the cursor of the next page if any.
            pub async fn list(
                ctx: &$crate::Ctx,
                mm: &$crate::ModelManager,
                filters: $crate::filter::Filters,
                options: &$crate::filter::ListOptions,
            ) -> $crate::Result<$crate::base::Page<<Self as $crate::base::DbBmc>::Entity>> {
                $crate::base::list::<Self>(ctx, mm, filters, options).await
            }

            pub async fn count(
                ctx: &$crate::Ctx,
                mm: &$crate::ModelManager,
                filters: $crate::filter::Filters,
            ) -> $crate::Result<i64> {
                $crate::base::count::<Self>(ctx, mm, filters).await
            }

            pub async fn update(
                ctx: &$crate::Ctx,
                mm: &$crate::ModelManager,
                id: i64,
                data: $crate::base::ForUpdate<Self>,
            ) -> $crate::Result<<Self as $crate::base::DbBmc>::Entity> {
                $crate::base::update::<Self>(ctx, mm, id, data, None).await
            }

            /// As `update`, only while the row's `mtime` is still `if_mtime` (else `Stale`).
            pub async fn update_if(
                ctx: &$crate::Ctx,
                mm: &$crate::ModelManager,
                id: i64,
                data: $crate::base::ForUpdate<Self>,
                if_mtime: Option<$crate::time::OffsetDateTime>,
            ) -> $crate::Result<<Self as $crate::base::DbBmc>::Entity> {
                $crate::base::update::<Self>(ctx, mm, id, data, if_mtime).await
            }

            pub async fn delete(
                ctx: &$crate::Ctx,
                mm: &$crate::ModelManager,
                id: i64,
            ) -> $crate::Result<<Self as $crate::base::DbBmc>::Entity> {
                $crate::base::delete::<Self>(ctx, mm, id, None).await
            }

            /// As `delete`, only while the row's `mtime` is still `if_mtime` (else `Stale`).
            pub async fn delete_if(
                ctx: &$crate::Ctx,
                mm: &$crate::ModelManager,
                id: i64,
                if_mtime: Option<$crate::time::OffsetDateTime>,
            ) -> $crate::Result<<Self as $crate::base::DbBmc>::Entity> {
                $crate::base::delete::<Self>(ctx, mm, id, if_mtime).await
            }

            /// Parses `filters` (raw JSON, as the request carried it) against this entity's columns.
            pub fn parse_filters(
                filters: Option<&$crate::serde_json::value::RawValue>,
            ) -> $crate::Result<$crate::filter::Filters> {
                $crate::filter::Filters::parse_raw(filters, <Self as $crate::base::DbBmc>::COLUMNS)
            }

            /// Parses `list_options` (raw JSON) against this entity's columns.
            pub fn parse_list_options(
                options: Option<&$crate::serde_json::value::RawValue>,
            ) -> $crate::Result<$crate::filter::ListOptions> {
                $crate::filter::ListOptions::parse_raw(options, <Self as $crate::base::DbBmc>::COLUMNS)
            }
        }
    };
}
