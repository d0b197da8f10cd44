//! [`generate_crud_fns!`]: one call gives an entity's Bmc its six CRUD methods.

/// Gives `Bmc` inherent `create`, `get`, `get_many`, `list`, `count`, `update` and `delete` over the generic
/// functions of [`base`](crate::base). The types must be the ones of its `DbBmc` impl:
///
/// ```ignore
/// generate_crud_fns! {
///     Bmc: TaskBmc,
///     Entity: Task,
///     ForCreate: TaskForCreate,
///     ForUpdate: TaskForUpdate,
/// }
/// ```
#[macro_export]
macro_rules! generate_crud_fns {
    (
        Bmc: $bmc:ty,
        Entity: $entity:ty,
        ForCreate: $for_create:ty,
        ForUpdate: $for_update:ty $(,)?
    ) => {
        impl $crate::base::Identified for $entity {
            fn id(&self) -> i64 {
                self.id
            }
        }

        impl $bmc {
            pub async fn create(
                ctx: &$crate::Ctx,
                mm: &$crate::ModelManager,
                data: $for_create,
            ) -> $crate::Result<$entity> {
                $crate::base::create::<Self>(ctx, mm, data).await
            }

            pub async fn get(ctx: &$crate::Ctx, mm: &$crate::ModelManager, id: i64) -> $crate::Result<$entity> {
                $crate::base::get::<Self>(ctx, mm, id).await
            }

            /// The rows among `ids` the caller may see, in one statement.
            pub async fn get_many(
                ctx: &$crate::Ctx,
                mm: &$crate::ModelManager,
                ids: Vec<i64>,
            ) -> $crate::Result<Vec<$entity>> {
                $crate::base::get_many::<Self>(ctx, mm, ids).await
            }

            pub async fn list(
                ctx: &$crate::Ctx,
                mm: &$crate::ModelManager,
                filters: $crate::filter::Filters,
                options: &$crate::filter::ListOptions,
            ) -> $crate::Result<Vec<$entity>> {
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
                data: $for_update,
            ) -> $crate::Result<$entity> {
                $crate::base::update::<Self>(ctx, mm, id, data).await
            }

            pub async fn delete(ctx: &$crate::Ctx, mm: &$crate::ModelManager, id: i64) -> $crate::Result<$entity> {
                $crate::base::delete::<Self>(ctx, mm, id).await
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
