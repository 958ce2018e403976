package tools

import (
	_ "github.com/aws/aws-sdk-go-v2/config"
	_ "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	_ "github.com/dolthub/go-mysql-server"
	_ "github.com/go-sql-driver/mysql"
)
