"""Lambda function sources the workbook deploys. Each module is a complete handler that runs
unchanged on AWS and on the local AWS; ``helpers.package_function`` zips one for create_function."""
